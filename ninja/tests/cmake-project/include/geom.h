#ifndef GEOM_H
#define GEOM_H
#include "common.h"
int geom_f0(int x);
int geom_f1(int x);
int geom_f2(int x);
int geom_f3(int x);
int geom_f4(int x);
int geom_f5(int x);
int geom_f6(int x);
int geom_f7(int x);
int geom_f8(int x);
int geom_f9(int x);
int geom_f10(int x);
#endif
