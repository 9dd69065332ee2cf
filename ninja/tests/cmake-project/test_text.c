#include "text.h"
int main(void) { int a = text_f10(2), b = text_f10(2); return (a == b && a >= 0) ? 0 : 1; }
