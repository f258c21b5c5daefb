build-perf/obj/crawler/sched.o: crawler/sched.c crawler/sched.h \
 crawler/imap.h store/store.h crawler/msg.h crawler/buf.h crawler/frame.h \
 crawler/hash.h crawler/xalloc.h parse/robots.h
crawler/sched.h:
crawler/imap.h:
store/store.h:
crawler/msg.h:
crawler/buf.h:
crawler/frame.h:
crawler/hash.h:
crawler/xalloc.h:
parse/robots.h:
