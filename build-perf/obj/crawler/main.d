build-perf/obj/crawler/main.o: crawler/main.c crawler/cli.h \
 crawler/config.h crawler/log.h
crawler/cli.h:
crawler/config.h:
crawler/log.h:
