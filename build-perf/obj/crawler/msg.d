build-perf/obj/crawler/msg.o: crawler/msg.c crawler/msg.h crawler/buf.h \
 crawler/frame.h crawler/xalloc.h
crawler/msg.h:
crawler/buf.h:
crawler/frame.h:
crawler/xalloc.h:
