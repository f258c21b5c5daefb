build-perf/obj/crawler/xalloc.o: crawler/xalloc.c crawler/xalloc.h
crawler/xalloc.h:
