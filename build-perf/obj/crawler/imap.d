build-perf/obj/crawler/imap.o: crawler/imap.c crawler/imap.h \
 crawler/xalloc.h
crawler/imap.h:
crawler/xalloc.h:
