build-perf/obj/fetch/fetch.o: fetch/fetch.c fetch/fetch.h \
 crawler/config.h crawler/buf.h crawler/frame.h crawler/hash.h \
 crawler/log.h crawler/msg.h crawler/xalloc.h
fetch/fetch.h:
crawler/config.h:
crawler/buf.h:
crawler/frame.h:
crawler/hash.h:
crawler/log.h:
crawler/msg.h:
crawler/xalloc.h:
