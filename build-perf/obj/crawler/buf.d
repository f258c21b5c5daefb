build-perf/obj/crawler/buf.o: crawler/buf.c crawler/buf.h \
 crawler/xalloc.h
crawler/buf.h:
crawler/xalloc.h:
