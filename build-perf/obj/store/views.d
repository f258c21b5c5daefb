build-perf/obj/store/views.o: store/views.c store/db.h store/store.h \
 crawler/msg.h crawler/buf.h crawler/frame.h
store/db.h:
store/store.h:
crawler/msg.h:
crawler/buf.h:
crawler/frame.h:
