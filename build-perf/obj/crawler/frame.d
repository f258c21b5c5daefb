build-perf/obj/crawler/frame.o: crawler/frame.c crawler/frame.h \
 crawler/buf.h crawler/xalloc.h
crawler/frame.h:
crawler/buf.h:
crawler/xalloc.h:
