build-perf/obj/crawler/trap.o: crawler/trap.c crawler/trap.h parse/url.h
crawler/trap.h:
parse/url.h:
