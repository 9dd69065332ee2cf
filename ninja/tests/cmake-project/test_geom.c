#include "geom.h"
int main(void) { int a = geom_f10(2), b = geom_f10(2); return (a == b && a >= 0) ? 0 : 1; }
