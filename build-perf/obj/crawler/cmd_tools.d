build-perf/obj/crawler/cmd_tools.o: crawler/cmd_tools.c crawler/cli.h \
 crawler/config.h crawler/msg.h crawler/buf.h crawler/frame.h \
 crawler/xalloc.h parse/html.h parse/robots.h parse/url.h
crawler/cli.h:
crawler/config.h:
crawler/msg.h:
crawler/buf.h:
crawler/frame.h:
crawler/xalloc.h:
parse/html.h:
parse/robots.h:
parse/url.h:
