/* e2e_check.h - reading what `protoc --decode` printed, for the end-to-end tests
   (tests/test_e2e_*.c): the text format parsed into a tree of fields, and lookups by field
   name, by attribute set and by metric/scope name. Strings are CEscape-decoded. Include
   after otlp_check.h (protoc_decode_as, run, have, write_file).                         */
#ifndef E2E_CHECK_H
#define E2E_CHECK_H

#include <math.h>
#include <stdarg.h>

typedef struct pnode {
    char key[64];
    char *val;         /* NULL for a message; decoded string or the raw token */
    size_t val_len;
    bool is_str;
    struct pnode **kids;
    size_t nkids, cap;
} pnode;

static pnode *pn_new(const char *key, size_t n) {
    pnode *p = (pnode *)calloc(1, sizeof *p);
    if (n >= sizeof p->key) n = sizeof p->key - 1;
    memcpy(p->key, key, n);
    return p;
}
static void pn_add(pnode *parent, pnode *kid) {
    if (parent->nkids == parent->cap) {
        parent->cap = parent->cap ? parent->cap * 2 : 8;
        parent->kids = (pnode **)realloc(parent->kids, parent->cap * sizeof *parent->kids);
    }
    parent->kids[parent->nkids++] = kid;
}
static void pn_free(pnode *p) {
    size_t i;
    if (!p) return;
    for (i = 0; i < p->nkids; i++) pn_free(p->kids[i]);
    free(p->kids);
    free(p->val);
    free(p);
}

/* protobuf's CEscape, undone */
static size_t pn_unescape(const char *s, size_t n, char *out) {
    size_t i = 0, k = 0;
    while (i < n) {
        char c = s[i++];
        if (c != '\\' || i >= n) { out[k++] = c; continue; }
        c = s[i++];
        switch (c) {
        case 'n': out[k++] = '\n'; break;
        case 'r': out[k++] = '\r'; break;
        case 't': out[k++] = '\t'; break;
        case '"': case '\'': case '\\': case '?': out[k++] = c; break;
        case 'x': {
            unsigned v = 0;
            int d = 0;
            while (i < n && d < 2 && isxdigit((unsigned char)s[i])) {
                v = v * 16 + (unsigned)(isdigit((unsigned char)s[i]) ? s[i] - '0' : (tolower((unsigned char)s[i]) - 'a' + 10));
                i++;
                d++;
            }
            out[k++] = (char)v;
            break;
        }
        default:
            if (c >= '0' && c <= '7') {
                unsigned v = (unsigned)(c - '0');
                int d = 1;
                while (i < n && d < 3 && s[i] >= '0' && s[i] <= '7') { v = v * 8 + (unsigned)(s[i++] - '0'); d++; }
                out[k++] = (char)v;
            } else {
                out[k++] = c;
            }
        }
    }
    out[k] = 0;
    return k;
}

/* The whole text as a tree; NULL when it does not parse. */
static pnode *pn_parse(const char *text) {
    pnode *root = pn_new("", 0), *stack[64];
    int depth = 0;
    const char *p = text;
    stack[0] = root;
    while (p && *p) {
        const char *e = strchr(p, '\n'), *b;
        size_t n;
        if (!e) e = p + strlen(p);
        while (p < e && (*p == ' ' || *p == '\t')) p++;
        b = e;
        while (b > p && (b[-1] == ' ' || b[-1] == '\r')) b--;
        n = (size_t)(b - p);
        if (n == 1 && *p == '}') {
            if (depth == 0) goto fail;
            depth--;
        } else if (n >= 2 && b[-1] == '{') {
            pnode *k = pn_new(p, (size_t)(b - 1 - p));
            size_t kl = strlen(k->key);
            while (kl && k->key[kl - 1] == ' ') k->key[--kl] = 0;
            pn_add(stack[depth], k);
            if (depth + 1 >= 64) goto fail;
            stack[++depth] = k;
        } else if (n) {
            const char *colon = (const char *)memchr(p, ':', n);
            pnode *k;
            const char *v;
            if (!colon || colon + 1 >= b || colon[1] != ' ') goto fail;
            k = pn_new(p, (size_t)(colon - p));
            v = colon + 2;
            if (*v == '"') {
                size_t vl = (size_t)(b - v);
                if (vl < 2 || b[-1] != '"') { pn_free(k); goto fail; }
                k->val = (char *)malloc(vl);
                k->val_len = pn_unescape(v + 1, vl - 2, k->val);
                k->is_str = true;
            } else {
                k->val_len = (size_t)(b - v);
                k->val = (char *)malloc(k->val_len + 1);
                memcpy(k->val, v, k->val_len);
                k->val[k->val_len] = 0;
            }
            pn_add(stack[depth], k);
        }
        p = *e ? e + 1 : e;
    }
    if (depth != 0) goto fail;
    return root;
fail:
    pn_free(root);
    return NULL;
}

/* The i-th child named key (NULL: none). */
static const pnode *pn_kid(const pnode *n, const char *key, size_t i) {
    size_t k;
    if (!n) return NULL;
    for (k = 0; k < n->nkids; k++)
        if (!strcmp(n->kids[k]->key, key) && i-- == 0) return n->kids[k];
    return NULL;
}
static size_t pn_count(const pnode *n, const char *key) {
    size_t k, c = 0;
    if (!n) return 0;
    for (k = 0; k < n->nkids; k++) c += !strcmp(n->kids[k]->key, key);
    return c;
}
/* A path of single children: pn_at(n, "resource_metrics/resource") */
static const pnode *pn_at(const pnode *n, const char *path) {
    char part[64];
    while (n && *path) {
        size_t l = strcspn(path, "/");
        if (l >= sizeof part) return NULL;
        memcpy(part, path, l);
        part[l] = 0;
        n = pn_kid(n, part, 0);
        path += l + (path[l] == '/');
    }
    return n;
}
/* The value of field `key` (a scalar); NULL when absent. */
static const char *pn_str(const pnode *n, const char *key) {
    const pnode *k = pn_kid(n, key, 0);
    return k && k->val ? k->val : NULL;
}
static bool pn_has(const pnode *n, const char *key) { return pn_kid(n, key, 0) != NULL; }
static bool pn_is(const pnode *n, const char *key, const char *want) {
    const char *v = pn_str(n, key);
    if (!v || strcmp(v, want)) {
        fprintf(stderr, "  field %s: got %s%s%s, want \"%s\"\n", key, v ? "\"" : "", v ? v : "(absent)", v ? "\"" : "", want);
        return false;
    }
    return true;
}
/* Integer fields (absent = proto3 default 0, as protoc leaves them out). */
static long long pn_int(const pnode *n, const char *key) {
    const char *v = pn_str(n, key);
    return v ? strtoll(v, NULL, 10) : 0;
}
static unsigned long long pn_u64(const pnode *n, const char *key) {
    const char *v = pn_str(n, key);
    return v ? strtoull(v, NULL, 10) : 0;
}
/* A double field; NaN when absent. */
static double pn_dbl(const pnode *n, const char *key) {
    const char *v = pn_str(n, key);
    return v ? strtod(v, NULL) : NAN;
}
/* Every value of a repeated scalar field, as doubles; returns the count. */
static size_t pn_list(const pnode *n, const char *key, double *out, size_t cap) {
    size_t k, c = 0;
    if (!n) return 0;
    for (k = 0; k < n->nkids; k++)
        if (!strcmp(n->kids[k]->key, key) && n->kids[k]->val) {
            if (c < cap) out[c] = strtod(n->kids[k]->val, NULL);
            c++;
        }
    return c;
}
/* A bytes field (ids) as lowercase hex; "" when absent. */
static const char *pn_hex(const pnode *n, const char *key, char *out) {
    const pnode *k = pn_kid(n, key, 0);
    size_t i;
    out[0] = 0;
    if (!k || !k->is_str) return out;
    for (i = 0; i < k->val_len; i++) sprintf(out + 2 * i, "%02x", (unsigned char)k->val[i]);
    return out;
}

/* The AnyValue of attribute `key` among n's "attributes"; NULL when missing. */
static const pnode *pn_attr(const pnode *n, const char *key) {
    size_t i;
    const pnode *a;
    for (i = 0; (a = pn_kid(n, "attributes", i)) != NULL; i++) {
        const char *k = pn_str(a, "key");
        if (k && !strcmp(k, key)) return pn_kid(a, "value", 0);
    }
    return NULL;
}
/* Checks n's attributes are exactly `spec`: "key=T:value;..." with T s (string), i (int),
   d (double), b (bool); "" = no attributes. Order does not matter. */
static bool pn_attrs_are(const pnode *n, const char *spec) {
    char buf[512], *save = NULL, *tok;
    size_t want = 0, have_n = pn_count(n, "attributes");
    snprintf(buf, sizeof buf, "%s", spec);
    for (tok = strtok_r(buf, ";", &save); tok; tok = strtok_r(NULL, ";", &save)) {
        char *eq = strchr(tok, '='), *val;
        const pnode *v;
        const char *field;
        if (!eq || eq[1] == 0 || eq[2] != ':') return false;
        *eq = 0;
        val = eq + 3;
        want++;
        v = pn_attr(n, tok);
        field = eq[1] == 's' ? "string_value" : eq[1] == 'i' ? "int_value" : eq[1] == 'd' ? "double_value" : "bool_value";
        if (!v || !pn_str(v, field)) {
            fprintf(stderr, "  attribute %s (%s) missing\n", tok, field);
            return false;
        }
        if (eq[1] == 'd' ? strtod(pn_str(v, field), NULL) != strtod(val, NULL) : strcmp(pn_str(v, field), val) != 0) {
            fprintf(stderr, "  attribute %s: got %s, want %s\n", tok, pn_str(v, field), val);
            return false;
        }
    }
    if (want != have_n) {
        fprintf(stderr, "  %zu attributes, want %zu (%s)\n", have_n, want, spec);
        return false;
    }
    return true;
}

/* Metrics: the "metrics" message named `name` in the scope named `scope` (NULL: any). */
static const pnode *pn_metric(const pnode *root, const char *scope, const char *name, const pnode **scope_out) {
    size_t i, j, k;
    const pnode *rm, *sm, *m;
    for (i = 0; (rm = pn_kid(root, "resource_metrics", i)) != NULL; i++)
        for (j = 0; (sm = pn_kid(rm, "scope_metrics", j)) != NULL; j++) {
            const char *sn = pn_str(pn_kid(sm, "scope", 0), "name");
            if (scope && (!sn || strcmp(sn, scope))) continue;
            for (k = 0; (m = pn_kid(sm, "metrics", k)) != NULL; k++) {
                const char *mn = pn_str(m, "name");
                if (mn && !strcmp(mn, name)) {
                    if (scope_out) *scope_out = sm;
                    return m;
                }
            }
        }
    return NULL;
}
/* The data point of `data` (a sum/gauge/histogram message) whose attributes are `spec`. */
static const pnode *pn_point(const pnode *data, const char *spec) {
    size_t i;
    const pnode *p;
    for (i = 0; (p = pn_kid(data, "data_points", i)) != NULL; i++) {
        /* quiet match first: only the right one may complain */
        char buf[512], *save = NULL, *tok;
        size_t want = 0;
        bool ok = true;
        snprintf(buf, sizeof buf, "%s", spec);
        for (tok = strtok_r(buf, ";", &save); tok && ok; tok = strtok_r(NULL, ";", &save)) {
            char *eq = strchr(tok, '=');
            const pnode *v;
            const char *field;
            if (!eq) return NULL;
            *eq = 0;
            want++;
            v = pn_attr(p, tok);
            field = eq[1] == 's' ? "string_value" : eq[1] == 'i' ? "int_value" : eq[1] == 'd' ? "double_value" : "bool_value";
            ok = v && pn_str(v, field) && (eq[1] == 'd' ? strtod(pn_str(v, field), NULL) == strtod(eq + 3, NULL)
                                                         : !strcmp(pn_str(v, field), eq + 3));
        }
        if (ok && want == pn_count(p, "attributes")) return p;
    }
    return NULL;
}
static size_t pn_total(const pnode *root, const char *l1, const char *l2, const char *l3) {
    size_t i, j, n = 0;
    const pnode *a, *b;
    for (i = 0; (a = pn_kid(root, l1, i)) != NULL; i++)
        for (j = 0; (b = pn_kid(a, l2, j)) != NULL; j++) n += pn_count(b, l3);
    return n;
}

/* A subtree back in protoc's text format (strings re-escaped as protoc does), for
   comparing with text made from the data (otlp_check.h's proto_value/proto_attr). */
static void pn_dump(sink_buf *b, const pnode *n) {
    size_t i;
    for (i = 0; n && i < n->nkids; i++) {
        const pnode *k = n->kids[i];
        if (!k->val) {
            sink_buf_fmt(b, "%s {\n", k->key);
            pn_dump(b, k);
            line(b, "}");
        } else if (k->is_str) {
            line_str(b, k->key, k->val, k->val_len);
        } else {
            sink_buf_fmt(b, "%s: %s\n", k->key, k->val);
        }
    }
}
/* Every child named `key` of n, dumped with its name. */
static void pn_dump_all(sink_buf *b, const pnode *n, const char *key) {
    size_t i;
    const pnode *k;
    for (i = 0; (k = pn_kid(n, key, i)) != NULL; i++) {
        sink_buf_fmt(b, "%s {\n", key);
        pn_dump(b, k);
        line(b, "}");
    }
}

/* Wall clock, as the SDK stamps. */
static uint64_t wall_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

/* python3 tests/e2e_compare.py SIGNAL PROTO JSON [extra]: 0 equal, 1 different, -2 no python3 */
static int e2e_compare(const char *signal, const char *proto_path, const char *json_path, const char *extra) {
    char cmd[1200], here[256], *slash;
    if (!have("python3")) return -2;
    snprintf(here, sizeof here, "%s", __FILE__);
    slash = strrchr(here, '/');
    if (slash) *slash = 0; else strcpy(here, ".");
    snprintf(cmd, sizeof cmd, "python3 '%s/e2e_compare.py' %s '%s' '%s' %s", here, signal, proto_path, json_path,
             extra ? extra : "");
    return run(cmd);
}

/* Appends text to a file. */
static bool append_file(const char *path, const void *p, size_t n) {
    FILE *f = fopen(path, "ab");
    bool ok = f && fwrite(p, 1, n, f) == n;
    if (f && fclose(f) != 0) ok = false;
    return ok;
}

#endif
