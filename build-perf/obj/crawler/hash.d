build-perf/obj/crawler/hash.o: crawler/hash.c crawler/hash.h
crawler/hash.h:
