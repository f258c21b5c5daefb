build-perf/obj/parse/url.o: parse/url.c parse/url.h crawler/buf.h \
 crawler/xalloc.h
parse/url.h:
crawler/buf.h:
crawler/xalloc.h:
