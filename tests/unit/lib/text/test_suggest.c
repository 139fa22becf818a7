/* lib/text/suggest.h: the edit distance every "did you mean" uses, and the
 * nearest-name search with its tie and tolerance rules. */
#include <string.h>

#include "lib/text/suggest.h"
#include "tests/unit/test.h"

static size_t dist(const char *a, const char *b)
{
    return eddy_edit_distance(a, strlen(a), b, strlen(b));
}

static void test_distance(void)
{
    CHECK(dist("", "") == 0);
    CHECK(dist("", "abc") == 3);
    CHECK(dist("abc", "") == 3);
    CHECK(dist("where", "where") == 0);
    CHECK(dist("wher", "where") == 1);       /* deletion */
    CHECK(dist("wheere", "where") == 1);     /* insertion */
    CHECK(dist("whare", "where") == 1);      /* substitution */
    CHECK(dist("fromat", "format") == 1);    /* a swap of neighbours is one slip */
    CHECK(dist("ab", "ba") == 1);
    CHECK(dist("abc", "ca") == 3);           /* optimal string alignment, not full Damerau */
    CHECK(dist("kitten", "sitting") == 3);
    CHECK(dist("UPPER", "upper") == 0);      /* ASCII case is not a slip */
    CHECK(dist("Distinct", "distinct") == 0);
    CHECK(dist("treshold", "threshold") == 1);
    CHECK(dist("pipelinez", "pipelines") == 1);
    /* Symmetric. */
    CHECK(dist("quantil", "quantile") == dist("quantile", "quantil"));
    CHECK(dist("sitting", "kitten") == 3);
    /* Only the first n bytes of each side count (agg passes a span). */
    CHECK(eddy_edit_distance("sumXYZ", 3, "sum", 3) == 0);
    /* Too long to be a typo. */
    char lng[EDDY_SUGGEST_MAX_LEN + 2];
    memset(lng, 'a', sizeof lng - 1);
    lng[sizeof lng - 1] = '\0';
    CHECK(dist(lng, "a") == EDDY_SUGGEST_FAR);
    lng[EDDY_SUGGEST_MAX_LEN] = '\0'; /* exactly the limit is still compared */
    CHECK(dist(lng, lng) == 0);
}

static void test_tolerance(void)
{
    CHECK(eddy_suggest_tolerance(0) == 1);
    CHECK(eddy_suggest_tolerance(4) == 1);
    CHECK(eddy_suggest_tolerance(5) == 2);
    CHECK(eddy_suggest_tolerance(8) == 2);
    CHECK(eddy_suggest_tolerance(9) == 3);
    CHECK(eddy_suggest_tolerance(40) == 3);
}

static void test_search(void)
{
    static const char *const keys[] = {"worker", "kafka", "topics", "sources", "pipelines", NULL};
    const char *s = eddy_suggest_among("pipelinez", keys, 2);
    CHECK(s && strcmp(s, "pipelines") == 0);
    CHECK(eddy_suggest_among("zzzzzz", keys, 2) == NULL);
    CHECK(eddy_suggest_among("x", NULL, 2) == NULL);
    static const char *const none[] = {NULL};
    CHECK(eddy_suggest_among("x", none, 2) == NULL);

    /* The threshold is inclusive. */
    static const char *const one[] = {"filter", NULL};
    CHECK(eddy_suggest_among("fltr", one, 2) != NULL);
    CHECK(eddy_suggest_among("fltr", one, 1) == NULL);

    /* Nearest wins; on a tie the first candidate tried wins. */
    eddy_suggest sg;
    eddy_suggest_init(&sg, "sqr", 3);
    eddy_suggest_try(&sg, "upper");
    eddy_suggest_try(&sg, "sqrt");
    eddy_suggest_try(&sg, "sq");
    s = eddy_suggest_best(&sg, 1);
    CHECK(s && strcmp(s, "sqrt") == 0);
    CHECK(sg.best_d == 1);

    /* A word given as a span, not NUL-terminated. */
    eddy_suggest_init(&sg, "quantil(amount)", 7);
    eddy_suggest_try(&sg, "count");
    eddy_suggest_try(&sg, "quantile");
    s = eddy_suggest_best(&sg, 2);
    CHECK(s && strcmp(s, "quantile") == 0);

    /* Nothing tried: nothing suggested, whatever the tolerance. */
    eddy_suggest_init(&sg, "x", 1);
    CHECK(eddy_suggest_best(&sg, EDDY_SUGGEST_FAR) == NULL);
}

int main(void)
{
    test_distance();
    test_tolerance();
    test_search();
    return test_report();
}
