build-perf/obj/store/frontier.o: store/frontier.c crawler/xalloc.h \
 store/db.h store/store.h crawler/msg.h crawler/buf.h crawler/frame.h
crawler/xalloc.h:
store/db.h:
store/store.h:
crawler/msg.h:
crawler/buf.h:
crawler/frame.h:
