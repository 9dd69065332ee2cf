#include "stats.h"
int main(void) { int a = stats_f10(2), b = stats_f10(2); return (a == b && a >= 0) ? 0 : 1; }
