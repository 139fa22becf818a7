#include "kafka_util.h"
int main(void) { return test_report(); }
