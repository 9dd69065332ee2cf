#ifndef COMMON_H
#define COMMON_H
#define SCALE 3
int common_mix(int a, int b);
#endif
