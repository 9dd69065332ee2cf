#include <stdio.h>
#include <stdlib.h>
#include "geom.h"
#include "text.h"
#include "stats.h"
int main(int argc, char **argv) {
  int x = argc > 1 ? atoi(argv[1]) : 1;
  printf("geom %d\n", geom_f10(x));
  printf("text %d\n", text_f10(x));
  printf("stats %d\n", stats_f10(x));
  return 0;
}
