build-perf/obj/crawler/scope.o: crawler/scope.c crawler/scope.h \
 crawler/config.h crawler/xalloc.h parse/url.h
crawler/scope.h:
crawler/config.h:
crawler/xalloc.h:
parse/url.h:
