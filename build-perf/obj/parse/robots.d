build-perf/obj/parse/robots.o: parse/robots.c parse/robots.h \
 crawler/xalloc.h
parse/robots.h:
crawler/xalloc.h:
