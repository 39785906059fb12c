/*
 * test_router.c -- route matching: literals, ":name" params, table order,
 * trailing slash, 404 vs 405 with Allow, 414 for long paths.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "router.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* What the last handler saw; params are copied because the router clears
 * them after the call. */
typedef struct seen {
    const char *handler;
    int nparams;
    char params[HTTP_MAX_PARAMS][64];
    void *ctx;
} seen;

static void record(const char *name, http_request *req, http_response *res,
                   void *ctx)
{
    seen *s = ctx;
    s->handler = name;
    s->ctx = ctx;
    s->nparams = req->nparams;
    for (int i = 0; i < req->nparams; i++)
        strncpy(s->params[i], req->params[i], sizeof s->params[i] - 1);
    http_reply_json(res, 200, json_string(name));
}

#define HANDLER(name) \
    static void h_##name(http_request *q, http_response *r, void *c) \
    { record(#name, q, r, c); }
HANDLER(root)
HANDLER(list)
HANDLER(create)
HANDLER(special)
HANDLER(get)
HANDLER(del)
HANDLER(metric)
HANDLER(five)

static const route routes[] = {
    {"GET", "/", h_root},
    {"GET", "/v1/goals", h_list},
    {"POST", "/v1/goals", h_create},
    {"GET", "/v1/goals/special", h_special},
    {"GET", "/v1/goals/:id", h_get},
    {"DELETE", "/v1/goals/:id", h_del},
    {"GET", "/v1/goals/:id/metrics/:name", h_metric},
    {"GET", "/v1/a/:a/b/:b/c/:c/d/:d/e/:e", h_five},
    {"POST", "/v1/only-post", h_create},
};
#define NROUTES (sizeof routes / sizeof routes[0])

typedef struct outcome {
    int rc;
    seen seen;
    http_response res;
    http_request req;
} outcome;

static void run(const char *method, const char *path, outcome *o)
{
    memset(o, 0, sizeof *o);
    o->req.method = method;
    o->req.path = path;
    o->req.request_id = "00112233445566ff";
    o->req.body = "";
    o->rc = router_dispatch(routes, NROUTES, &o->req, &o->res, &o->seen);
}

static void done(outcome *o)
{
    http_response_reset(&o->res);
}

static void expect_handler(const char *method, const char *path,
                           const char *handler)
{
    outcome o;
    run(method, path, &o);
    assert_int_equal(o.rc, 0);
    assert_non_null(o.seen.handler);
    assert_string_equal(o.seen.handler, handler);
    assert_ptr_equal(o.seen.ctx, &o.seen);
    assert_int_equal(o.res.status, 200);
    done(&o);
}

/* String member of a JSON object; fails the test when missing (cmocka's
 * string asserts crash on NULL). */
static const char *jget(json_t *obj, const char *key)
{
    const char *v = json_string_value(json_object_get(obj, key));
    if (v == NULL)
        fail_msg("member \"%s\" missing or not a string", key);
    return v;
}

/* The problem document of o; checks status, title and instance. */
static json_t *expect_problem(outcome *o, int status)
{
    assert_int_equal(o->rc, -1);
    assert_null(o->seen.handler);
    assert_int_equal(o->res.status, status);
    assert_string_equal(o->res.content_type, "application/problem+json");
    json_error_t e;
    json_t *j = json_loadb(o->res.body, o->res.body_len, 0, &e);
    assert_non_null(j);
    assert_int_equal(json_integer_value(json_object_get(j, "status")), status);
    assert_string_equal(jget(j, "title"), http_reason(status));
    assert_string_equal(jget(j, "instance"),
                        "urn:telos:request:00112233445566ff");
    return j;
}

static const char *allow_of(const outcome *o)
{
    for (int i = 0; i < o->res.nextra; i++)
        if (strcmp(o->res.extra_headers[i][0], "Allow") == 0)
            return o->res.extra_headers[i][1];
    return NULL;
}

static void test_literal_routes(void **state)
{
    expect_handler("GET", "/", "root");
    expect_handler("GET", "/v1/goals", "list");
    expect_handler("POST", "/v1/goals", "create");
}

static void test_param_is_captured_and_cleared(void **state)
{
    outcome o;
    run("GET", "/v1/goals/abc-123", &o);
    assert_int_equal(o.rc, 0);
    assert_non_null(o.seen.handler);
    assert_string_equal(o.seen.handler, "get");
    assert_int_equal(o.seen.nparams, 1);
    assert_string_equal(o.seen.params[0], "abc-123");
    /* The values lived in the router's buffer: gone after the call. */
    assert_int_equal(o.req.nparams, 0);
    assert_null(o.req.params[0]);
    done(&o);
}

static void test_two_params_in_order(void **state)
{
    outcome o;
    run("GET", "/v1/goals/g1/metrics/revenue", &o);
    assert_non_null(o.seen.handler);
    assert_string_equal(o.seen.handler, "metric");
    assert_int_equal(o.seen.nparams, 2);
    assert_string_equal(o.seen.params[0], "g1");
    assert_string_equal(o.seen.params[1], "revenue");
    done(&o);
}

static void test_head_uses_the_get_route(void **state)
{
    expect_handler("HEAD", "/v1/goals", "list");
    outcome o;
    run("HEAD", "/v1/goals/g7", &o);
    assert_int_equal(o.rc, 0);
    assert_non_null(o.seen.handler);
    assert_string_equal(o.seen.handler, "get");
    assert_string_equal(o.seen.params[0], "g7");
    done(&o);
    /* A route without GET does not answer HEAD. */
    run("HEAD", "/v1/only-post", &o);
    json_decref(expect_problem(&o, 405));
    assert_non_null(allow_of(&o));
    assert_string_equal(allow_of(&o), "POST");
    done(&o);
}

static void test_table_order_wins(void **state)
{
    expect_handler("GET", "/v1/goals/special", "special");
    expect_handler("DELETE", "/v1/goals/special", "del");
}

static void test_trailing_slash_is_ignored(void **state)
{
    expect_handler("GET", "/v1/goals/", "list");
    outcome o;
    run("GET", "/v1/goals/abc/", &o);
    assert_non_null(o.seen.handler);
    assert_string_equal(o.seen.handler, "get");
    assert_string_equal(o.seen.params[0], "abc");
    done(&o);
    expect_handler("GET", "/", "root");
}

static void test_param_needs_non_empty_segment(void **state)
{
    outcome o;
    run("GET", "/v1/goals//metrics/x", &o);
    json_decref(expect_problem(&o, 404));
    done(&o);
    /* Only one trailing slash is dropped: "/v1/goals//" is not a goal. */
    run("GET", "/v1/goals//", &o);
    json_decref(expect_problem(&o, 404));
    done(&o);
}

static void test_unknown_paths_are_404(void **state)
{
    const char *paths[] = {"/v1/goalsX", "/v1/goals/abc/extra", "/V1/goals",
                           "", "v1/goals", "/v1//goals", "/nothing"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        outcome o;
        run("GET", paths[i], &o);
        json_t *j = expect_problem(&o, 404);
        assert_string_equal(jget(j, "type"), "about:blank");
        assert_null(allow_of(&o));
        json_decref(j);
        done(&o);
    }
}

static void test_wrong_method_is_405_with_allow(void **state)
{
    outcome o;
    run("PUT", "/v1/goals", &o);
    json_decref(expect_problem(&o, 405));
    assert_non_null(allow_of(&o));
    assert_string_equal(allow_of(&o), "GET, HEAD, POST");
    done(&o);

    run("PATCH", "/v1/goals/xyz", &o);
    json_decref(expect_problem(&o, 405));
    assert_non_null(allow_of(&o));
    assert_string_equal(allow_of(&o), "GET, HEAD, DELETE");
    done(&o);

    /* Three routes match "/v1/goals/special" (GET twice): no duplicates. */
    run("POST", "/v1/goals/special", &o);
    json_decref(expect_problem(&o, 405));
    assert_non_null(allow_of(&o));
    assert_string_equal(allow_of(&o), "GET, HEAD, DELETE");
    done(&o);

    /* Methods are case-sensitive tokens. */
    run("get", "/v1/goals", &o);
    json_decref(expect_problem(&o, 405));
    done(&o);
}

static void test_too_many_params_never_match(void **state)
{
    outcome o;
    run("GET", "/v1/a/1/b/2/c/3/d/4/e/5", &o);
    json_decref(expect_problem(&o, 404));
    done(&o);
}

static void test_long_path_is_414(void **state)
{
    char *path = malloc(ROUTER_MAX_PATH + 2);
    path[0] = '/';
    memset(path + 1, 'a', ROUTER_MAX_PATH);
    path[ROUTER_MAX_PATH + 1] = '\0';            /* 2049 bytes */
    outcome o;
    run("GET", path, &o);
    json_decref(expect_problem(&o, 414));
    done(&o);

    path[ROUTER_MAX_PATH] = '\0';                /* exactly 2048: served */
    run("GET", path, &o);
    json_decref(expect_problem(&o, 404));
    done(&o);

    /* A 2048-byte goal id still reaches its handler whole. */
    memcpy(path, "/v1/goals/", 10);
    run("GET", path, &o);
    assert_int_equal(o.rc, 0);
    assert_non_null(o.seen.handler);
    assert_string_equal(o.seen.handler, "get");
    done(&o);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_literal_routes),
        cmocka_unit_test(test_param_is_captured_and_cleared),
        cmocka_unit_test(test_two_params_in_order),
        cmocka_unit_test(test_head_uses_the_get_route),
        cmocka_unit_test(test_table_order_wins),
        cmocka_unit_test(test_trailing_slash_is_ignored),
        cmocka_unit_test(test_param_needs_non_empty_segment),
        cmocka_unit_test(test_unknown_paths_are_404),
        cmocka_unit_test(test_wrong_method_is_405_with_allow),
        cmocka_unit_test(test_too_many_params_never_match),
        cmocka_unit_test(test_long_path_is_414),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
