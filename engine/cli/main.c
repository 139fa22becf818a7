#include <stdio.h>
int main(void)
{
    puts("eddy 0.1.0");
    return 0;
}
