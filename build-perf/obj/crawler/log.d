build-perf/obj/crawler/log.o: crawler/log.c crawler/log.h
crawler/log.h:
