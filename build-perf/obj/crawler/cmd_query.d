build-perf/obj/crawler/cmd_query.o: crawler/cmd_query.c crawler/buf.h \
 crawler/cli.h crawler/xalloc.h parse/url.h store/query.h store/store.h \
 crawler/msg.h crawler/frame.h
crawler/buf.h:
crawler/cli.h:
crawler/xalloc.h:
parse/url.h:
store/query.h:
store/store.h:
crawler/msg.h:
crawler/frame.h:
