build-perf/obj/crawler/coord.o: crawler/coord.c crawler/coord.h \
 crawler/config.h crawler/frame.h crawler/buf.h crawler/hash.h \
 crawler/log.h crawler/msg.h crawler/progress.h crawler/sched.h \
 crawler/imap.h store/store.h crawler/scope.h crawler/trap.h \
 crawler/xalloc.h fetch/fetch.h parse/parse.h parse/robots.h parse/url.h
crawler/coord.h:
crawler/config.h:
crawler/frame.h:
crawler/buf.h:
crawler/hash.h:
crawler/log.h:
crawler/msg.h:
crawler/progress.h:
crawler/sched.h:
crawler/imap.h:
store/store.h:
crawler/scope.h:
crawler/trap.h:
crawler/xalloc.h:
fetch/fetch.h:
parse/parse.h:
parse/robots.h:
parse/url.h:
