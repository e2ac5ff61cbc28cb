// hl_bpf.h - loading the wire-port classifier with libbpf and driving its
// maps and tc attachment. The classifier's shared definitions (map layouts,
// verdict codes) come from the BPF source tree, so the BPF side and the
// engine cannot disagree.
//
// Every function returns 0 (or a non-negative value) on success and -errno
// on failure.
#ifndef HL_BPF_H
#define HL_BPF_H

#include <stddef.h>
#include <stdint.h>

#include "../../BPF/homeless_bpf.h"

/// A loaded classifier object: two programs and four maps (opaque).
typedef struct hl_classifier hl_classifier;

/// Opens the ELF object in memory (bpf_object__open_mem), loads it into the
/// kernel (the verifier runs here) and writes the default configuration.
int hl_classifier_open(const void *object, size_t size, hl_classifier **out);
/// Unloads programs and maps (a tc filter still attached keeps its program).
void hl_classifier_close(hl_classifier *classifier);

int hl_classifier_socket_program(const hl_classifier *classifier);
/// Socket filter for the slow path's tap of outgoing TCP SYNs to peers
/// the classifier does not know (classifier steering).
int hl_classifier_conversation_tap_program(const hl_classifier *classifier);
int hl_classifier_tc_program(const hl_classifier *classifier);

int hl_classifier_set_config(hl_classifier *classifier, const struct hl_classifier_config *config);
int hl_classifier_get_config(const hl_classifier *classifier, struct hl_classifier_config *config);

/// Map selectors for the locator functions.
enum hl_locator_map {
    HL_LOCATOR_MAP_LOCAL = 0,
    HL_LOCATOR_MAP_FOREIGN = 1,
};
int hl_classifier_add_locator(hl_classifier *classifier, int map, const uint8_t address[16],
                              const struct hl_locator_value *value);
/// -ENOENT when the address is not in the map.
int hl_classifier_remove_locator(hl_classifier *classifier, int map, const uint8_t address[16]);
/// 1 and *value filled when present, 0 when absent.
int hl_classifier_lookup_locator(const hl_classifier *classifier, int map, const uint8_t address[16],
                                 struct hl_locator_value *value);

/// Sums the per-CPU verdict counters into `totals` (HL_VERDICT_COUNTERS entries).
int hl_classifier_read_verdicts(const hl_classifier *classifier, uint64_t *totals, size_t count);

/// Attaches `program` as the ingress filter of `ifindex` with the project's
/// handle and priority, creating the clsact qdisc when there is none.
/// *created_qdisc tells whether this call created it (so detaching removes
/// only a qdisc we own). -EEXIST when a filter with that identity is there.
int hl_tc_attach_ingress(int ifindex, int program, int *created_qdisc);
/// Removes the project's ingress filter; destroys the clsact qdisc too when
/// destroy_qdisc is set. -ENOENT when there was no such filter.
int hl_tc_detach_ingress(int ifindex, int destroy_qdisc);
/// The id of the program behind the project's ingress filter, or -ENOENT.
int hl_tc_query_ingress(int ifindex, uint32_t *program_id);
/// Removes a leftover of a crashed run: the ingress filter with the
/// project's handle and priority, only if its program is named
/// HL_PROGRAM_TC. Returns 1 when one was removed, 0 when there was none
/// (or it belongs to someone else).
int hl_tc_remove_leftover(int ifindex);

/// Silences libbpf's warnings on stderr (0) or restores them (1).
void hl_bpf_set_logging(int enabled);

#endif
