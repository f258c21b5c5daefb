build-perf/obj/crawler/progress.o: crawler/progress.c crawler/progress.h \
 crawler/config.h store/store.h crawler/msg.h crawler/buf.h \
 crawler/frame.h
crawler/progress.h:
crawler/config.h:
store/store.h:
crawler/msg.h:
crawler/buf.h:
crawler/frame.h:
