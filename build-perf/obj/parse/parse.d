build-perf/obj/parse/parse.o: parse/parse.c parse/parse.h \
 crawler/config.h crawler/frame.h crawler/buf.h crawler/log.h \
 crawler/msg.h parse/html.h parse/sitemap.h
parse/parse.h:
crawler/config.h:
crawler/frame.h:
crawler/buf.h:
crawler/log.h:
crawler/msg.h:
parse/html.h:
parse/sitemap.h:
