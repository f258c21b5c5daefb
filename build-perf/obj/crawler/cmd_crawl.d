build-perf/obj/crawler/cmd_crawl.o: crawler/cmd_crawl.c crawler/cli.h \
 crawler/config.h crawler/coord.h crawler/xalloc.h parse/url.h
crawler/cli.h:
crawler/config.h:
crawler/coord.h:
crawler/xalloc.h:
parse/url.h:
