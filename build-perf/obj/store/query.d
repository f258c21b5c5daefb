build-perf/obj/store/query.o: store/query.c crawler/hash.h \
 crawler/xalloc.h store/db.h store/store.h crawler/msg.h crawler/buf.h \
 crawler/frame.h store/query.h
crawler/hash.h:
crawler/xalloc.h:
store/db.h:
store/store.h:
crawler/msg.h:
crawler/buf.h:
crawler/frame.h:
store/query.h:
