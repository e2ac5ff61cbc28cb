// hl_bpf.c - libbpf loader for the wire-port classifier.
#include "hl_bpf.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int hl_quiet_print(enum libbpf_print_level level, const char *format, va_list args);

struct hl_classifier {
    struct bpf_object *object;
    int socket_program;
    int tc_program;
    int conversation_tap;
    int local_locators;
    int foreign_locators;
    int config;
    int verdicts;
};

static int hl_find_program(struct bpf_object *object, const char *name) {
    struct bpf_program *program = bpf_object__find_program_by_name(object, name);
    if (!program) return -ENOENT;
    int fd = bpf_program__fd(program);
    return fd < 0 ? -EBADF : fd;
}

static int hl_find_map(struct bpf_object *object, const char *name) {
    struct bpf_map *map = bpf_object__find_map_by_name(object, name);
    if (!map) return -ENOENT;
    int fd = bpf_map__fd(map);
    return fd < 0 ? -EBADF : fd;
}

int hl_classifier_open(const void *object_bytes, size_t size, hl_classifier **out) {
    LIBBPF_OPTS(bpf_object_open_opts, options, .object_name = "homeless_classifier");
    struct bpf_object *object = bpf_object__open_mem(object_bytes, size, &options);
    if (!object) return errno ? -errno : -EINVAL;
    int err = bpf_object__load(object);
    if (err) {
        bpf_object__close(object);
        return err < 0 ? err : -EINVAL;
    }
    hl_classifier *c = calloc(1, sizeof *c);
    if (!c) {
        bpf_object__close(object);
        return -ENOMEM;
    }
    c->object = object;
    c->socket_program = hl_find_program(object, HL_PROGRAM_SOCKET);
    c->tc_program = hl_find_program(object, HL_PROGRAM_TC);
    c->conversation_tap = hl_find_program(object, HL_PROGRAM_CONVERSATION_TAP);
    c->local_locators = hl_find_map(object, HL_MAP_LOCAL_LOCATORS);
    c->foreign_locators = hl_find_map(object, HL_MAP_FOREIGN_LOCATORS);
    c->config = hl_find_map(object, HL_MAP_CONFIG);
    c->verdicts = hl_find_map(object, HL_MAP_VERDICT_COUNTERS);
    int missing = c->socket_program < 0 ? c->socket_program
                : c->tc_program < 0 ? c->tc_program
                : c->conversation_tap < 0 ? c->conversation_tap
                : c->local_locators < 0 ? c->local_locators
                : c->foreign_locators < 0 ? c->foreign_locators
                : c->config < 0 ? c->config
                : c->verdicts < 0 ? c->verdicts : 0;
    if (missing) {
        hl_classifier_close(c);
        return missing;
    }
    struct hl_classifier_config defaults;
    memset(&defaults, 0, sizeof defaults);
    defaults.handshake_next_header = HL_DEFAULT_HANDSHAKE_NEXT_HEADER;
    err = hl_classifier_set_config(c, &defaults);
    if (err) {
        hl_classifier_close(c);
        return err;
    }
    *out = c;
    return 0;
}

void hl_classifier_close(hl_classifier *c) {
    if (!c) return;
    bpf_object__close(c->object);
    free(c);
}

int hl_classifier_socket_program(const hl_classifier *c) { return c->socket_program; }
int hl_classifier_tc_program(const hl_classifier *c) { return c->tc_program; }
int hl_classifier_conversation_tap_program(const hl_classifier *c) { return c->conversation_tap; }

int hl_classifier_set_config(hl_classifier *c, const struct hl_classifier_config *config) {
    uint32_t key = 0;
    int err = bpf_map_update_elem(c->config, &key, config, BPF_ANY);
    return err < 0 ? -errno : 0;
}

int hl_classifier_get_config(const hl_classifier *c, struct hl_classifier_config *config) {
    uint32_t key = 0;
    int err = bpf_map_lookup_elem(c->config, &key, config);
    return err < 0 ? -errno : 0;
}

static int hl_locator_map_fd(const hl_classifier *c, int map) {
    switch (map) {
    case HL_LOCATOR_MAP_LOCAL: return c->local_locators;
    case HL_LOCATOR_MAP_FOREIGN: return c->foreign_locators;
    default: return -EINVAL;
    }
}

int hl_classifier_add_locator(hl_classifier *c, int map, const uint8_t address[16],
                              const struct hl_locator_value *value) {
    int fd = hl_locator_map_fd(c, map);
    if (fd < 0) return fd;
    struct hl_locator_key key;
    memcpy(key.address, address, sizeof key.address);
    return bpf_map_update_elem(fd, &key, value, BPF_ANY) < 0 ? -errno : 0;
}

int hl_classifier_remove_locator(hl_classifier *c, int map, const uint8_t address[16]) {
    int fd = hl_locator_map_fd(c, map);
    if (fd < 0) return fd;
    struct hl_locator_key key;
    memcpy(key.address, address, sizeof key.address);
    return bpf_map_delete_elem(fd, &key) < 0 ? -errno : 0;
}

int hl_classifier_lookup_locator(const hl_classifier *c, int map, const uint8_t address[16],
                                 struct hl_locator_value *value) {
    int fd = hl_locator_map_fd(c, map);
    if (fd < 0) return fd;
    struct hl_locator_key key;
    memcpy(key.address, address, sizeof key.address);
    if (bpf_map_lookup_elem(fd, &key, value) == 0) return 1;
    return errno == ENOENT ? 0 : -errno;
}

int hl_classifier_read_verdicts(const hl_classifier *c, uint64_t *totals, size_t count) {
    int cpus = libbpf_num_possible_cpus();
    if (cpus <= 0) return cpus < 0 ? cpus : -EINVAL;
    uint64_t *per_cpu = calloc((size_t)cpus, sizeof *per_cpu);
    if (!per_cpu) return -ENOMEM;
    int result = 0;
    for (uint32_t index = 0; index < count && index < HL_VERDICT_COUNTERS; index++) {
        if (bpf_map_lookup_elem(c->verdicts, &index, per_cpu) < 0) {
            result = -errno;
            break;
        }
        uint64_t sum = 0;
        for (int cpu = 0; cpu < cpus; cpu++) sum += per_cpu[cpu];
        totals[index] = sum;
    }
    free(per_cpu);
    return result;
}

static void hl_ingress_hook(struct bpf_tc_hook *hook, int ifindex) {
    memset(hook, 0, sizeof *hook);
    hook->sz = sizeof *hook;
    hook->ifindex = ifindex;
    hook->attach_point = BPF_TC_INGRESS;
}

static void hl_identity(struct bpf_tc_opts *opts) {
    memset(opts, 0, sizeof *opts);
    opts->sz = sizeof *opts;
    opts->handle = HL_TC_HANDLE;
    opts->priority = HL_TC_PRIORITY;
}

int hl_tc_attach_ingress(int ifindex, int program, int *created_qdisc) {
    struct bpf_tc_hook hook;
    hl_ingress_hook(&hook, ifindex);
    // An existing clsact qdisc is fine (-EEXIST); keep libbpf from printing
    // the kernel's extended ack for it.
    libbpf_print_fn_t previous = libbpf_set_print(hl_quiet_print);
    int err = bpf_tc_hook_create(&hook);
    libbpf_set_print(previous);
    if (err && err != -EEXIST) return err;
    *created_qdisc = err == 0;
    struct bpf_tc_opts opts;
    hl_identity(&opts);
    opts.prog_fd = program;
    err = bpf_tc_attach(&hook, &opts);
    if (err && *created_qdisc) {
        hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
        bpf_tc_hook_destroy(&hook);
        *created_qdisc = 0;
    }
    return err;
}

int hl_tc_detach_ingress(int ifindex, int destroy_qdisc) {
    struct bpf_tc_hook hook;
    hl_ingress_hook(&hook, ifindex);
    struct bpf_tc_opts opts;
    hl_identity(&opts);
    int err = bpf_tc_detach(&hook, &opts);
    if (destroy_qdisc) {
        // Both directions together name the clsact qdisc itself.
        hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
        int destroy = bpf_tc_hook_destroy(&hook);
        if (!err && destroy && destroy != -ENOENT) err = destroy;
    }
    return err;
}

int hl_tc_query_ingress(int ifindex, uint32_t *program_id) {
    struct bpf_tc_hook hook;
    hl_ingress_hook(&hook, ifindex);
    struct bpf_tc_opts opts;
    hl_identity(&opts);
    // "Not there" is an expected answer here; keep libbpf from printing the
    // kernel's extended ack for it.
    libbpf_print_fn_t previous = libbpf_set_print(hl_quiet_print);
    int err = bpf_tc_query(&hook, &opts);
    libbpf_set_print(previous);
    if (err) return err;
    *program_id = opts.prog_id;
    return 0;
}

int hl_tc_remove_leftover(int ifindex) {
    uint32_t id = 0;
    int err = hl_tc_query_ingress(ifindex, &id);
    if (err == -ENOENT || err == -EINVAL) return 0;  // no filter, or no clsact qdisc
    if (err) return err;
    int fd = bpf_prog_get_fd_by_id(id);
    if (fd < 0) return -errno;
    struct bpf_prog_info info;
    uint32_t length = sizeof info;
    memset(&info, 0, sizeof info);
    err = bpf_obj_get_info_by_fd(fd, &info, &length);
    close(fd);
    if (err) return -errno;
    if (strncmp(info.name, HL_PROGRAM_TC, sizeof info.name) != 0) return 0;
    err = hl_tc_detach_ingress(ifindex, 0);
    return err ? err : 1;
}

static int hl_quiet_print(enum libbpf_print_level level, const char *format, va_list args) {
    (void)level;
    (void)format;
    (void)args;
    return 0;
}

static int hl_warning_print(enum libbpf_print_level level, const char *format, va_list args) {
    if (level == LIBBPF_DEBUG) return 0;
    return vfprintf(stderr, format, args);
}

void hl_bpf_set_logging(int enabled) {
    libbpf_set_print(enabled ? hl_warning_print : hl_quiet_print);
}
