build-perf/obj/store/store.o: store/store.c store/db.h store/store.h \
 crawler/msg.h crawler/buf.h crawler/frame.h crawler/xalloc.h
store/db.h:
store/store.h:
crawler/msg.h:
crawler/buf.h:
crawler/frame.h:
crawler/xalloc.h:
