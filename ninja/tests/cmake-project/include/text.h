#ifndef TEXT_H
#define TEXT_H
#include "common.h"
int text_f0(int x);
int text_f1(int x);
int text_f2(int x);
int text_f3(int x);
int text_f4(int x);
int text_f5(int x);
int text_f6(int x);
int text_f7(int x);
int text_f8(int x);
int text_f9(int x);
int text_f10(int x);
#endif
