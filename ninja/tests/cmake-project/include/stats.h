#ifndef STATS_H
#define STATS_H
#include "common.h"
int stats_f0(int x);
int stats_f1(int x);
int stats_f2(int x);
int stats_f3(int x);
int stats_f4(int x);
int stats_f5(int x);
int stats_f6(int x);
int stats_f7(int x);
int stats_f8(int x);
int stats_f9(int x);
int stats_f10(int x);
#endif
