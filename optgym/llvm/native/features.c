/* Fast module statistics for optgym, computed in-process over the LLVM-C API.
 *
 * Counting instructions from Python through ctypes costs ~1 us per instruction; doing it here
 * costs nanoseconds, which is what keeps an environment step under a fraction of a millisecond.
 * Feature definitions follow CompilerGym's InstCount and Autophase observation spaces so that
 * agents and papers built on them port without change.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <llvm-c/Core.h>

/* ---- a tiny open-addressing map from block pointers to per-block predecessor counts ---- */
typedef struct {
  LLVMBasicBlockRef *keys;
  int64_t *preds;
  size_t cap;
} BlockMap;

static size_t bm_slot(const BlockMap *m, LLVMBasicBlockRef bb) {
  uintptr_t h = (uintptr_t)bb;
  h ^= h >> 17;
  h *= (uintptr_t)0x9E3779B97F4A7C15ull;
  size_t i = (size_t)(h & (m->cap - 1));
  while (m->keys[i] && m->keys[i] != bb) i = (i + 1) & (m->cap - 1);
  return i;
}

static int bm_init(BlockMap *m, size_t nblocks) {
  size_t cap = 16;
  while (cap < 2 * nblocks + 2) cap <<= 1;
  m->cap = cap;
  m->keys = calloc(cap, sizeof(*m->keys));
  m->preds = calloc(cap, sizeof(*m->preds));
  return m->keys && m->preds ? 0 : -1;
}

static void bm_free(BlockMap *m) {
  free(m->keys);
  free(m->preds);
}

static int64_t *bm_preds(BlockMap *m, LLVMBasicBlockRef bb) {
  size_t i = bm_slot(m, bb);
  m->keys[i] = bb;
  return &m->preds[i];
}

/* Instructions, basic blocks and defined functions of a module. */
int optgym_counts(LLVMModuleRef mod, int64_t *out) {
  int64_t insts = 0, blocks = 0, funcs = 0;
  for (LLVMValueRef f = LLVMGetFirstFunction(mod); f; f = LLVMGetNextFunction(f)) {
    if (LLVMIsDeclaration(f)) continue;
    ++funcs;
    for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(f); bb; bb = LLVMGetNextBasicBlock(bb)) {
      ++blocks;
      for (LLVMValueRef i = LLVMGetFirstInstruction(bb); i; i = LLVMGetNextInstruction(i)) ++insts;
    }
  }
  out[0] = insts;
  out[1] = blocks;
  out[2] = funcs;
  return 0;
}

/* The 67 opcodes of LLVM's Instruction.def, in its order: CompilerGym's InstCount layout. */
static const LLVMOpcode kOpcodes[67] = {
    LLVMRet, LLVMBr, LLVMSwitch, LLVMIndirectBr, LLVMInvoke, LLVMResume, LLVMUnreachable,
    LLVMCleanupRet, LLVMCatchRet, LLVMCatchSwitch, LLVMCallBr, LLVMFNeg, LLVMAdd, LLVMFAdd,
    LLVMSub, LLVMFSub, LLVMMul, LLVMFMul, LLVMUDiv, LLVMSDiv, LLVMFDiv, LLVMURem, LLVMSRem,
    LLVMFRem, LLVMShl, LLVMLShr, LLVMAShr, LLVMAnd, LLVMOr, LLVMXor, LLVMAlloca, LLVMLoad,
    LLVMStore, LLVMGetElementPtr, LLVMFence, LLVMAtomicCmpXchg, LLVMAtomicRMW, LLVMTrunc,
    LLVMZExt, LLVMSExt, LLVMFPToUI, LLVMFPToSI, LLVMUIToFP, LLVMSIToFP, LLVMFPTrunc, LLVMFPExt,
    LLVMPtrToInt, LLVMIntToPtr, LLVMBitCast, LLVMAddrSpaceCast, LLVMCleanupPad, LLVMCatchPad,
    LLVMICmp, LLVMFCmp, LLVMPHI, LLVMCall, LLVMSelect, LLVMUserOp1, LLVMUserOp2, LLVMVAArg,
    LLVMExtractElement, LLVMInsertElement, LLVMShuffleVector, LLVMExtractValue,
    LLVMInsertValue, LLVMLandingPad, LLVMFreeze,
};

static int opcode_slot(LLVMOpcode op) {
  static int table[128];
  static int ready = 0;
  if (!ready) {
    for (int i = 0; i < 128; ++i) table[i] = -1;
    for (int i = 0; i < 67; ++i) table[kOpcodes[i]] = i;
    ready = 1;
  }
  return (op >= 0 && op < 128) ? table[op] : -1;
}

/* InstCount: [TotalInsts, TotalBlocks, TotalFuncs, then one count per opcode above] (70). */
int optgym_instcount(LLVMModuleRef mod, int64_t *out) {
  memset(out, 0, 70 * sizeof(int64_t));
  optgym_counts(mod, out);
  for (LLVMValueRef f = LLVMGetFirstFunction(mod); f; f = LLVMGetNextFunction(f))
    for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(f); bb; bb = LLVMGetNextBasicBlock(bb))
      for (LLVMValueRef i = LLVMGetFirstInstruction(bb); i; i = LLVMGetNextInstruction(i)) {
        int s = opcode_slot(LLVMGetInstructionOpcode(i));
        if (s >= 0) ++out[3 + s];
      }
  return 0;
}

/* Autophase feature indices, in CompilerGym's order. */
enum {
  A_BBNumArgsHi, A_BBNumArgsLo, A_onePred, A_onePredOneSuc, A_onePredTwoSuc, A_oneSuccessor,
  A_twoPred, A_twoPredOneSuc, A_twoEach, A_twoSuccessor, A_morePreds, A_BB03Phi, A_BBHiPhi,
  A_BBNoPhi, A_BeginPhi, A_BranchCount, A_returnInt, A_CriticalCount, A_NumEdges, A_const32Bit,
  A_const64Bit, A_numConstZeroes, A_numConstOnes, A_UncondBranches, A_binaryConstArg,
  A_NumAShrInst, A_NumAddInst, A_NumAllocaInst, A_NumAndInst, A_BlockMid, A_BlockLow,
  A_NumBitCastInst, A_NumBrInst, A_NumCallInst, A_NumGetElementPtrInst, A_NumICmpInst,
  A_NumLShrInst, A_NumLoadInst, A_NumMulInst, A_NumOrInst, A_NumPHIInst, A_NumRetInst,
  A_NumSExtInst, A_NumSelectInst, A_NumShlInst, A_NumStoreInst, A_NumSubInst, A_NumTruncInst,
  A_NumXorInst, A_NumZExtInst, A_TotalBlocks, A_TotalInsts, A_TotalMemInst, A_TotalFuncs,
  A_ArgsPhi, A_testUnary, A_COUNT
};

static int autophase_opcode_feature(LLVMOpcode op) {
  switch (op) {
    case LLVMAShr: return A_NumAShrInst;
    case LLVMAdd: return A_NumAddInst;
    case LLVMAlloca: return A_NumAllocaInst;
    case LLVMAnd: return A_NumAndInst;
    case LLVMBitCast: return A_NumBitCastInst;
    case LLVMBr: return A_NumBrInst;
    case LLVMCall: return A_NumCallInst;
    case LLVMGetElementPtr: return A_NumGetElementPtrInst;
    case LLVMICmp: return A_NumICmpInst;
    case LLVMLShr: return A_NumLShrInst;
    case LLVMLoad: return A_NumLoadInst;
    case LLVMMul: return A_NumMulInst;
    case LLVMOr: return A_NumOrInst;
    case LLVMPHI: return A_NumPHIInst;
    case LLVMRet: return A_NumRetInst;
    case LLVMSExt: return A_NumSExtInst;
    case LLVMSelect: return A_NumSelectInst;
    case LLVMShl: return A_NumShlInst;
    case LLVMStore: return A_NumStoreInst;
    case LLVMSub: return A_NumSubInst;
    case LLVMTrunc: return A_NumTruncInst;
    case LLVMXor: return A_NumXorInst;
    case LLVMZExt: return A_NumZExtInst;
    default: return -1;
  }
}

static int is_mem_opcode(LLVMOpcode op) {
  return op == LLVMGetElementPtr || op == LLVMLoad || op == LLVMStore || op == LLVMCall ||
         op == LLVMInvoke || op == LLVMAlloca;
}

static void autophase_block(LLVMBasicBlockRef bb, BlockMap *preds, int64_t *a) {
  ++a[A_TotalBlocks];
  LLVMValueRef term = LLVMGetBasicBlockTerminator(bb);
  unsigned nsucc = term ? LLVMGetNumSuccessors(term) : 0;
  for (unsigned s = 0; s < nsucc; ++s) {
    ++a[A_NumEdges];
    /* LLVM's isCriticalEdge: a multi-successor source into a multi-predecessor destination. */
    if (nsucc > 1 && *bm_preds(preds, LLVMGetSuccessor(term, s)) > 1) ++a[A_CriticalCount];
  }
  int64_t npred = *bm_preds(preds, bb);
  if (nsucc == 1) ++a[A_oneSuccessor];
  else if (nsucc == 2) ++a[A_twoSuccessor];
  if (npred == 1) ++a[A_onePred];
  else if (npred == 2) ++a[A_twoPred];
  else if (npred > 2) ++a[A_morePreds];
  if (npred == 1 && nsucc == 1) ++a[A_onePredOneSuc];
  else if (npred == 2 && nsucc == 1) ++a[A_twoPredOneSuc];
  else if (npred == 1 && nsucc == 2) ++a[A_onePredTwoSuc];
  else if (npred == 2 && nsucc == 2) ++a[A_twoEach];

  int64_t count = 0, phis = 0, phi_args = 0;
  int first = 1;
  for (LLVMValueRef i = LLVMGetFirstInstruction(bb); i; i = LLVMGetNextInstruction(i)) {
    LLVMOpcode op = LLVMGetInstructionOpcode(i);
    ++a[A_TotalInsts];
    int feat = autophase_opcode_feature(op);
    if (feat >= 0) ++a[feat];
    if (is_mem_opcode(op)) ++a[A_TotalMemInst];
    if (op == LLVMBr) {
      ++a[A_BranchCount];
      if (!LLVMIsConditional(i)) ++a[A_UncondBranches];
    }
    int nops = LLVMGetNumOperands(i);
    for (int k = 0; k < nops; ++k) {
      LLVMValueRef v = LLVMGetOperand(i, (unsigned)k);
      if (!v || !LLVMIsAConstantInt(v)) continue;
      unsigned width = LLVMGetIntTypeWidth(LLVMTypeOf(v));
      if (width == 32) ++a[A_const32Bit];
      else if (width == 64) ++a[A_const64Bit];
      if (width <= 64) {
        unsigned long long val = LLVMConstIntGetZExtValue(v);
        if (val == 1) ++a[A_numConstOnes];
        else if (val == 0) ++a[A_numConstZeroes];
      }
    }
    if (op == LLVMCall) {
      LLVMValueRef callee = LLVMGetCalledValue(i);
      if (callee && LLVMIsAFunction(callee)) {
        LLVMTypeRef ret = LLVMGetReturnType(LLVMGlobalGetValueType(callee));
        if (LLVMGetTypeKind(ret) == LLVMIntegerTypeKind) ++a[A_returnInt];
      }
    }
    if (LLVMIsAUnaryInstruction(i)) ++a[A_testUnary];
    if (LLVMIsABinaryOperator(i) &&
        (LLVMIsAConstant(LLVMGetOperand(i, 0)) || LLVMIsAConstant(LLVMGetOperand(i, 1))))
      ++a[A_binaryConstArg];
    if (first && op == LLVMPHI) ++a[A_BeginPhi];
    if (op == LLVMPHI) {
      ++phis;
      phi_args += LLVMCountIncoming(i);
    }
    first = 0;
    ++count;
  }
  a[A_ArgsPhi] += phi_args;
  if (phis == 0) ++a[A_BBNoPhi];
  else if (phis <= 3) ++a[A_BB03Phi];
  else ++a[A_BBHiPhi];
  if (phi_args > 5) ++a[A_BBNumArgsHi];
  else if (phi_args >= 1) ++a[A_BBNumArgsLo];
  if (count < 15) ++a[A_BlockLow];
  else if (count <= 500) ++a[A_BlockMid];
}

/* Autophase: the 56 features of Huang et al. (2019) as CompilerGym lays them out. */
int optgym_autophase(LLVMModuleRef mod, int64_t *out) {
  memset(out, 0, A_COUNT * sizeof(int64_t));
  for (LLVMValueRef f = LLVMGetFirstFunction(mod); f; f = LLVMGetNextFunction(f)) {
    ++out[A_TotalFuncs]; /* CompilerGym counts declarations here too */
    size_t nblocks = LLVMCountBasicBlocks(f);
    if (nblocks == 0) continue;
    BlockMap preds;
    if (bm_init(&preds, nblocks) != 0) {
      bm_free(&preds);
      return -1;
    }
    for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(f); bb; bb = LLVMGetNextBasicBlock(bb)) {
      LLVMValueRef term = LLVMGetBasicBlockTerminator(bb);
      unsigned nsucc = term ? LLVMGetNumSuccessors(term) : 0;
      for (unsigned s = 0; s < nsucc; ++s) ++*bm_preds(&preds, LLVMGetSuccessor(term, s));
    }
    for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(f); bb; bb = LLVMGetNextBasicBlock(bb))
      autophase_block(bb, &preds, out);
    bm_free(&preds);
  }
  return 0;
}

/* Change detection (the fingerprint) and the step's counts are in walk.cpp. */

/* ---- clang's contracts ---- */

/* Call sites the always-inliner inlines that are still calls: the callee is a function with a
 * body marked `alwaysinline`, or the call site itself is marked so (`[[clang::always_inline]]`),
 * and the call site is not `noinline`. clang inlines these at every -O level, -O0 included, so a
 * result that keeps more of them than clang -Oz does breaks a promise the source relied on. */
int64_t optgym_always_inline_calls(LLVMModuleRef mod) {
  unsigned always = LLVMGetEnumAttributeKindForName("alwaysinline", 12);
  unsigned never = LLVMGetEnumAttributeKindForName("noinline", 8);
  int64_t n = 0;
  for (LLVMValueRef f = LLVMGetFirstFunction(mod); f; f = LLVMGetNextFunction(f)) {
    for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(f); bb; bb = LLVMGetNextBasicBlock(bb)) {
      for (LLVMValueRef i = LLVMGetFirstInstruction(bb); i; i = LLVMGetNextInstruction(i)) {
        LLVMOpcode op = LLVMGetInstructionOpcode(i);
        if (op != LLVMCall && op != LLVMInvoke && op != LLVMCallBr) continue;
        if (LLVMGetCallSiteEnumAttribute(i, LLVMAttributeFunctionIndex, never)) continue;
        LLVMValueRef callee = LLVMIsAFunction(LLVMGetCalledValue(i));
        int marked = LLVMGetCallSiteEnumAttribute(i, LLVMAttributeFunctionIndex, always) != NULL;
        if (!marked && callee && !LLVMIsDeclaration(callee))
          marked = LLVMGetEnumAttributeAtIndex(callee, LLVMAttributeFunctionIndex, always) != NULL;
        n += marked;
      }
    }
  }
  return n;
}

/* Instructions of each defined function, in module order (as many as fit in `cap`); returns
 * the number of defined functions. */
int64_t optgym_function_counts(LLVMModuleRef mod, int64_t *out, int64_t cap) {
  int64_t n = 0;
  for (LLVMValueRef f = LLVMGetFirstFunction(mod); f; f = LLVMGetNextFunction(f)) {
    if (LLVMIsDeclaration(f)) continue;
    int64_t insts = 0;
    for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(f); bb; bb = LLVMGetNextBasicBlock(bb))
      for (LLVMValueRef i = LLVMGetFirstInstruction(bb); i; i = LLVMGetNextInstruction(i)) ++insts;
    if (n < cap) out[n] = insts;
    ++n;
  }
  return n;
}
