build-perf/obj/store/results.o: store/results.c store/db.h store/store.h \
 crawler/msg.h crawler/buf.h crawler/frame.h
store/db.h:
store/store.h:
crawler/msg.h:
crawler/buf.h:
crawler/frame.h:
