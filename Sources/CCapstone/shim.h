#include <capstone/capstone.h>

/* What Swift cannot reach in capstone's detail unions: the target of a direct jump or call. Returns 1 and sets
   *target when `insn` (decoded with CS_OPT_DETAIL on) jumps or calls to an immediate address, else 0. */
static inline int CCapstone_branch_target(csh handle, const cs_insn *insn, cs_arch arch, uint64_t *target) {
    if (insn->detail == NULL) return 0;
    if (!cs_insn_group(handle, insn, CS_GRP_JUMP) && !cs_insn_group(handle, insn, CS_GRP_CALL)) return 0;
    if (arch == CS_ARCH_X86) {
        const cs_x86 *x86 = &insn->detail->x86;
        if (x86->op_count != 1 || x86->operands[0].type != X86_OP_IMM) return 0;
        *target = (uint64_t)x86->operands[0].imm;
        return 1;
    }
    if (arch == CS_ARCH_ARM64) {
        const cs_arm64 *arm64 = &insn->detail->arm64;
        for (uint8_t i = 0; i < arm64->op_count; i++) {
            if (arm64->operands[i].type == ARM64_OP_IMM) {
                *target = (uint64_t)arm64->operands[i].imm;
                return 1;
            }
        }
    }
    return 0;
}
