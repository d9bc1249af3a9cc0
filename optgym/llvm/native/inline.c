/* Call sites and their features for the inlining environment, computed over the LLVM-C API.
 *
 * Two jobs. `optgym_inline_mark` gives every call instruction a synthetic debug location whose
 * line is the call's id (its ordinal among the module's calls, plus one), so that a call site
 * keeps its name through parsing, cloning and inlining: LLVM chains the location of a call
 * that inlining copies into another function (`inlinedAt`), so the chain of lines names a
 * call site in its context, and LLVM's replay inline advisor (`-cgscc-inline-replay`) takes
 * decisions keyed by exactly that chain. `optgym_inline_table` reads a module (marked, and
 * usually simplified the way clang -Oz simplifies it before its inliner runs) into a table of
 * functions and a table of call sites with MLGO's features and an approximation of LLVM's
 * inline cost (see `site_cost`), plus each site's chain of ids.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <llvm-c/Core.h>
#include <llvm-c/DebugInfo.h>

/* ---- columns of the two tables (mirrored in optgym/llvm/core.py) ---- */
enum {
  F_DEFINED, F_LOCAL, F_INSTRUCTIONS, F_BLOCKS, F_USES, F_CALL_USES, F_COND_BLOCKS,
  F_CALLS_DEFINED, F_MAX_LOOP_DEPTH, F_TOP_LOOPS, F_NOINLINE, F_ALWAYSINLINE, F_VIABLE,
  F_INTERPOSABLE, F_SCC, F_LEVEL, F_BODY_COST, F_ARGS, F_VARARGS, F_ADDRESS_TAKEN, F_CALLS,
  F_MEMORY, F_SINGLE_BLOCK, F_COLS
};
enum {
  S_CALLER, S_CALLEE, S_LOOP_DEPTH, S_ARGS, S_CONST_ARGS, S_ALLOCA_ARGS, S_INVOKE, S_NOINLINE,
  S_ALWAYSINLINE, S_ENTRY_BLOCK, S_COND_BLOCK, S_CHAIN_START, S_CHAIN_LEN, S_COMPATIBLE,
  S_POSITION, S_CONST_ARG_USES, S_COST, S_COLS
};

static int is_call(LLVMValueRef i) {
  LLVMOpcode op = LLVMGetInstructionOpcode(i);
  return op == LLVMCall || op == LLVMInvoke || op == LLVMCallBr;
}

/* ---- a pointer -> int map (open addressing) ---- */
typedef struct {
  const void **keys;
  int64_t *vals;
  size_t cap;
} Map;

static int map_init(Map *m, size_t n) {
  size_t cap = 16;
  while (cap < 2 * n + 2) cap <<= 1;
  m->cap = cap;
  m->keys = calloc(cap, sizeof *m->keys);
  m->vals = calloc(cap, sizeof *m->vals);
  return m->keys && m->vals ? 0 : -1;
}

static void map_free(Map *m) {
  free(m->keys);
  free(m->vals);
}

static size_t map_slot(const Map *m, const void *k) {
  uintptr_t h = (uintptr_t)k;
  h ^= h >> 17;
  h *= (uintptr_t)0x9E3779B97F4A7C15ull;
  size_t i = (size_t)(h & (m->cap - 1));
  while (m->keys[i] && m->keys[i] != k) i = (i + 1) & (m->cap - 1);
  return i;
}

static void map_put(Map *m, const void *k, int64_t v) {
  size_t i = map_slot(m, k);
  m->keys[i] = k;
  m->vals[i] = v;
}

static int64_t map_get(const Map *m, const void *k) {
  size_t i = map_slot(m, k);
  return m->keys[i] ? m->vals[i] : -1;
}

/* ---- synthetic call-site locations ---- */

/* Give every defined function a subprogram and every call a location whose line is the call's
 * id + 1 (ids count calls in module order). The compile unit emits no debug information, so
 * objects are unchanged. Returns the number of calls, or -1 when the module already carries
 * debug information (its own locations are not overwritten). */
int64_t optgym_inline_mark(LLVMModuleRef mod) {
  if (LLVMGetNamedMetadataNumOperands(mod, "llvm.dbg.cu") > 0) return -1;
  for (LLVMValueRef f = LLVMGetFirstFunction(mod); f; f = LLVMGetNextFunction(f))
    if (LLVMGetSubprogram(f)) return -1;
  LLVMContextRef ctx = LLVMGetModuleContext(mod);
  LLVMDIBuilderRef dib = LLVMCreateDIBuilder(mod);
  LLVMMetadataRef file = LLVMDIBuilderCreateFile(dib, "optgym-callsites", 16, "", 0);
  LLVMDIBuilderCreateCompileUnit(dib, LLVMDWARFSourceLanguageC, file, "optgym", 6, 1, "", 0, 0,
                                 "", 0, LLVMDWARFEmissionNone, 0, 0, 0, "", 0, "", 0);
  LLVMMetadataRef type = LLVMDIBuilderCreateSubroutineType(dib, file, NULL, 0, LLVMDIFlagZero);
  int64_t id = 0;
  for (LLVMValueRef f = LLVMGetFirstFunction(mod); f; f = LLVMGetNextFunction(f)) {
    if (LLVMIsDeclaration(f)) continue;
    size_t len = 0;
    const char *name = LLVMGetValueName2(f, &len);
    LLVMLinkage linkage = LLVMGetLinkage(f);
    int local = linkage == LLVMInternalLinkage || linkage == LLVMPrivateLinkage;
    LLVMMetadataRef sp = LLVMDIBuilderCreateFunction(dib, file, name, len, "", 0, file, 0, type,
                                                     local, 1, 0, LLVMDIFlagZero, 1);
    LLVMSetSubprogram(f, sp);
    for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(f); bb; bb = LLVMGetNextBasicBlock(bb))
      for (LLVMValueRef i = LLVMGetFirstInstruction(bb); i; i = LLVMGetNextInstruction(i))
        if (is_call(i)) {
          ++id;
          LLVMInstructionSetDebugLoc(i, LLVMDIBuilderCreateDebugLocation(ctx, (unsigned)id, 0,
                                                                         sp, NULL));
        }
  }
  LLVMDIBuilderFinalize(dib);
  LLVMDisposeDIBuilder(dib);
  LLVMAddModuleFlag(mod, LLVMModuleFlagBehaviorWarning, "Debug Info Version", 18,
                    LLVMValueAsMetadata(LLVMConstInt(LLVMInt32TypeInContext(ctx),
                                                     LLVMDebugMetadataVersion(), 0)));
  return id;
}

/* ---- per-function analysis: blocks, dominators, loops ---- */
typedef struct {
  size_t n;
  LLVMBasicBlockRef *blocks;
  int64_t *depth; /* loop depth of each block */
  int64_t max_depth, top_loops, cond_blocks;
} Loops;

static int loops_compute(LLVMValueRef f, Loops *out) {
  memset(out, 0, sizeof *out);
  size_t n = LLVMCountBasicBlocks(f);
  out->n = n;
  if (!n) return 0;
  LLVMBasicBlockRef *blocks = malloc(n * sizeof *blocks);
  int64_t *depth = calloc(n, sizeof *depth);
  int64_t *idom = malloc(n * sizeof *idom), *rpo_num = malloc(n * sizeof *rpo_num);
  int64_t *order = malloc(n * sizeof *order), *stack = malloc(2 * n * sizeof *stack);
  int64_t *mark = calloc(n, sizeof *mark);
  int64_t *succ_off = calloc(n + 1, sizeof *succ_off);
  Map index;
  if (!blocks || !depth || !idom || !rpo_num || !order || !stack || !mark ||
      !succ_off || map_init(&index, n)) {
    free(blocks); free(depth); free(idom); free(rpo_num); free(order); free(stack);
    free(mark); free(succ_off);
    map_free(&index);
    return -1;
  }
  size_t k = 0;
  for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(f); bb; bb = LLVMGetNextBasicBlock(bb)) {
    blocks[k] = bb;
    map_put(&index, bb, (int64_t)k);
    ++k;
  }
  /* successor lists (CSR) and predecessor counts */
  for (size_t b = 0; b < n; ++b) {
    LLVMValueRef t = LLVMGetBasicBlockTerminator(blocks[b]);
    succ_off[b + 1] = succ_off[b] + (t ? LLVMGetNumSuccessors(t) : 0);
  }
  int64_t nedges = succ_off[n];
  int64_t *succ = malloc((size_t)(nedges + 1) * sizeof *succ);
  int64_t *pred_off = calloc(n + 1, sizeof *pred_off), *pred = malloc((size_t)(nedges + 1) * sizeof *pred);
  int64_t *fill = calloc(n + 1, sizeof *fill), *body = malloc(n * sizeof *body);
  if (!succ || !pred_off || !pred || !fill || !body) {
    free(succ); free(pred_off); free(pred); free(fill); free(body);
    free(blocks); free(depth); free(idom); free(rpo_num); free(order); free(stack);
    free(mark); free(succ_off);
    map_free(&index);
    return -1;
  }
  for (size_t b = 0; b < n; ++b) {
    LLVMValueRef t = LLVMGetBasicBlockTerminator(blocks[b]);
    unsigned ns = t ? LLVMGetNumSuccessors(t) : 0;
    for (unsigned s = 0; s < ns; ++s) {
      int64_t d = map_get(&index, LLVMGetSuccessor(t, s));
      succ[succ_off[b] + s] = d;
      ++pred_off[d + 1];
    }
  }
  for (size_t b = 0; b < n; ++b) pred_off[b + 1] += pred_off[b];
  for (size_t b = 0; b < n; ++b)
    for (int64_t e = succ_off[b]; e < succ_off[b + 1]; ++e) {
      int64_t d = succ[e];
      pred[pred_off[d] + fill[d]++] = (int64_t)b;
    }
  /* MLGO's "blocks reached from a conditional instruction": successors of a branching block
   * that have no other predecessor */
  for (size_t b = 0; b < n; ++b) {
    if (succ_off[b + 1] - succ_off[b] < 2) continue;
    for (int64_t e = succ_off[b]; e < succ_off[b + 1]; ++e)
      if (pred_off[succ[e] + 1] - pred_off[succ[e]] == 1) ++out->cond_blocks;
  }
  /* reverse post-order from the entry (iterative DFS) */
  for (size_t b = 0; b < n; ++b) rpo_num[b] = -1;
  int64_t sp = 0, post = 0;
  stack[sp++] = 0;
  stack[sp++] = succ_off[0];
  mark[0] = 1;
  while (sp) {
    int64_t b = stack[sp - 2], e = stack[sp - 1];
    if (e < succ_off[b + 1]) {
      stack[sp - 1] = e + 1;
      int64_t d = succ[e];
      if (!mark[d]) {
        mark[d] = 1;
        stack[sp++] = d;
        stack[sp++] = succ_off[d];
      }
    } else {
      order[post++] = b; /* post-order */
      sp -= 2;
    }
  }
  int64_t reach = post;
  for (int64_t i = 0; i < reach; ++i) rpo_num[order[i]] = reach - 1 - i;
  /* dominators: Cooper, Harvey and Kennedy's iterative algorithm over the RPO */
  for (size_t b = 0; b < n; ++b) idom[b] = -1;
  idom[0] = 0;
  for (int changed = 1; changed;) {
    changed = 0;
    for (int64_t i = reach - 1; i >= 0; --i) { /* order[] is post-order: walk it backwards */
      int64_t b = order[i];
      if (b == 0) continue;
      int64_t nd = -1;
      for (int64_t e = pred_off[b]; e < pred_off[b + 1]; ++e) {
        int64_t p = pred[e];
        if (idom[p] < 0) continue;
        if (nd < 0) { nd = p; continue; }
        int64_t x = p, y = nd;
        while (x != y) {
          while (rpo_num[x] > rpo_num[y]) x = idom[x];
          while (rpo_num[y] > rpo_num[x]) y = idom[y];
        }
        nd = x;
      }
      if (nd >= 0 && idom[b] != nd) { idom[b] = nd; changed = 1; }
    }
  }
  /* natural loops: for every header h with a back edge (a latch that h dominates), the blocks
   * that reach a latch without passing h; each block's depth counts the loops holding it */
  memset(mark, 0, n * sizeof *mark);
  int64_t stamp = 0;
  for (size_t h = 0; h < n; ++h) {
    if (rpo_num[h] < 0) continue;
    int64_t nb = 0;
    ++stamp;
    for (int64_t e = pred_off[h]; e < pred_off[h + 1]; ++e) {
      int64_t l = pred[e];
      if (rpo_num[l] < 0) continue;
      int64_t x = l;
      while (x != (int64_t)h && x != 0) x = idom[x];
      if (x != (int64_t)h) continue; /* h does not dominate l: not a back edge */
      if (!nb) { mark[h] = stamp; body[nb++] = (int64_t)h; }
      if (mark[l] != stamp) { mark[l] = stamp; body[nb++] = l; }
    }
    if (!nb) continue;
    for (int64_t i = 1; i < nb; ++i) {
      int64_t b = body[i];
      for (int64_t e = pred_off[b]; e < pred_off[b + 1]; ++e) {
        int64_t p = pred[e];
        if (rpo_num[p] >= 0 && mark[p] != stamp) { mark[p] = stamp; body[nb++] = p; }
      }
    }
    for (int64_t i = 0; i < nb; ++i) ++depth[body[i]];
  }
  for (size_t b = 0; b < n; ++b) {
    if (depth[b] > out->max_depth) out->max_depth = depth[b];
  }
  /* a top-level loop's header has depth 1 and a back edge into it */
  for (size_t h = 0; h < n; ++h) {
    if (depth[h] != 1) continue;
    for (int64_t e = pred_off[h]; e < pred_off[h + 1]; ++e) {
      int64_t x = pred[e];
      if (rpo_num[x] < 0) continue;
      while (x != (int64_t)h && x != 0) x = idom[x];
      if (x == (int64_t)h) { ++out->top_loops; break; }
    }
  }
  out->blocks = blocks;
  out->depth = depth;
  free(idom); free(rpo_num); free(order); free(stack); free(mark);
  free(succ_off); free(succ); free(pred_off); free(pred); free(fill); free(body);
  map_free(&index);
  return 0;
}

static void loops_free(Loops *l) {
  free(l->blocks);
  free(l->depth);
}

/* ---- an approximation of LLVM's inline cost model (InlineCostCallAnalyzer) at -Oz ---- */
enum { INSTR_COST = 5, CALL_PENALTY = 25, LAST_CALL_TO_STATIC_BONUS = 15000 };

static int starts_with(LLVMValueRef f, const char *prefix) {
  size_t len = 0, plen = strlen(prefix);
  const char *name = LLVMGetValueName2(f, &len);
  return len >= plen && !memcmp(name, prefix, plen);
}

static int intrinsic_is_free(LLVMValueRef callee) {
  static const char *kFree[] = {"llvm.lifetime.", "llvm.dbg.", "llvm.assume",
                                "llvm.experimental.noalias.scope.decl", "llvm.invariant.",
                                "llvm.objectsize.", "llvm.expect.", "llvm.sideeffect",
                                "llvm.pseudoprobe", "llvm.donothing", "llvm.var.annotation",
                                "llvm.ptr.annotation", "llvm.launder.invariant.group",
                                "llvm.strip.invariant.group"};
  for (size_t k = 0; k < sizeof kFree / sizeof *kFree; ++k)
    if (starts_with(callee, kFree[k])) return 1;
  return 0;
}

/* The cost LLVM's analysis would charge for one instruction of a callee body, before any
 * simplification from the call site: most instructions cost InstrCost; casts that are no-ops,
 * constant-offset address arithmetic, static allocas, phis, unconditional branches and returns
 * are free; calls pay a penalty and their argument setup; switches pay by their case count. */
static int64_t instruction_cost(LLVMValueRef i, int entry_block) {
  LLVMOpcode op = LLVMGetInstructionOpcode(i);
  switch (op) {
    case LLVMPHI: case LLVMRet: case LLVMUnreachable: case LLVMBitCast: case LLVMAddrSpaceCast:
    case LLVMPtrToInt: case LLVMIntToPtr:
      return 0;
    case LLVMAlloca:
      return entry_block ? 0 : INSTR_COST;
    case LLVMBr:
      return LLVMIsConditional(i) ? INSTR_COST : 0;
    case LLVMGetElementPtr: {
      int nops = LLVMGetNumOperands(i);
      for (int k = 1; k < nops; ++k)
        if (!LLVMIsAConstant(LLVMGetOperand(i, (unsigned)k))) return INSTR_COST;
      return 0;
    }
    case LLVMSwitch: {
      int64_t cases = LLVMGetNumSuccessors(i) - 1;
      if (cases <= 0) return 0;
      /* LLVM estimates the comparisons of a balanced tree of case clusters */
      int64_t cmp = cases <= 3 ? 2 * cases : 3 * cases / 2 - 1;
      return cmp * INSTR_COST;
    }
    case LLVMCall: case LLVMInvoke: case LLVMCallBr: {
      LLVMValueRef callee = LLVMIsAFunction(LLVMGetCalledValue(i));
      if (callee && LLVMGetIntrinsicID(callee)) {
        if (intrinsic_is_free(callee)) return 0;
        return INSTR_COST;
      }
      return INSTR_COST + CALL_PENALTY + INSTR_COST * (int64_t)LLVMGetNumArgOperands(i);
    }
    default:
      return INSTR_COST;
  }
}

/* ---- call graph SCCs (Tarjan), bottom-up ---- */
typedef struct {
  int64_t nf;
  int64_t *edge_off, *edge; /* defined callee indices per function (CSR), with repeats */
  int64_t *scc, *level;
} Graph;

static void tarjan(Graph *g, const int64_t *defined) {
  int64_t n = g->nf;
  int64_t *idx = malloc(n * sizeof *idx), *low = malloc(n * sizeof *low);
  int64_t *onstack = calloc(n, sizeof *onstack), *stk = malloc(n * sizeof *stk);
  int64_t *call = malloc(2 * n * sizeof *call);
  int64_t counter = 0, top = 0, nscc = 0;
  for (int64_t v = 0; v < n; ++v) { idx[v] = -1; g->scc[v] = -1; }
  for (int64_t root = 0; root < n; ++root) {
    if (!defined[root] || idx[root] >= 0) continue;
    int64_t cs = 0;
    call[cs++] = root;
    call[cs++] = g->edge_off[root];
    idx[root] = low[root] = counter++;
    stk[top++] = root;
    onstack[root] = 1;
    while (cs) {
      int64_t v = call[cs - 2], e = call[cs - 1];
      if (e < g->edge_off[v + 1]) {
        call[cs - 1] = e + 1;
        int64_t w = g->edge[e];
        if (idx[w] < 0) {
          idx[w] = low[w] = counter++;
          stk[top++] = w;
          onstack[w] = 1;
          call[cs++] = w;
          call[cs++] = g->edge_off[w];
        } else if (onstack[w] && idx[w] < low[v]) {
          low[v] = idx[w];
        }
      } else {
        cs -= 2;
        if (cs && low[v] < low[call[cs - 2]]) low[call[cs - 2]] = low[v];
        if (low[v] == idx[v]) {
          int64_t w;
          do {
            w = stk[--top];
            onstack[w] = 0;
            g->scc[w] = nscc;
          } while (w != v);
          ++nscc;
        }
      }
    }
  }
  /* levels: an SCC's height over the SCCs it calls (leaves are 0); SCCs come out of Tarjan's
   * algorithm callees first, so one pass in SCC order suffices */
  int64_t *scc_level = calloc((size_t)nscc + 1, sizeof *scc_level);
  int64_t *order = malloc(n * sizeof *order), m = 0;
  for (int64_t s = 0; s < nscc; ++s)
    for (int64_t v = 0; v < n; ++v)
      if (g->scc[v] == s) order[m++] = v;
  for (int64_t k = 0; k < m; ++k) {
    int64_t v = order[k];
    for (int64_t e = g->edge_off[v]; e < g->edge_off[v + 1]; ++e) {
      int64_t w = g->edge[e];
      if (g->scc[w] != g->scc[v] && scc_level[g->scc[w]] + 1 > scc_level[g->scc[v]])
        scc_level[g->scc[v]] = scc_level[g->scc[w]] + 1;
    }
  }
  for (int64_t v = 0; v < n; ++v) g->level[v] = g->scc[v] >= 0 ? scc_level[g->scc[v]] : -1;
  free(scc_level); free(order);
  free(idx); free(low); free(onstack); free(stk); free(call);
}

/* ---- the tables ---- */

static int same_string_attribute(LLVMValueRef a, LLVMValueRef b, const char *key) {
  unsigned klen = (unsigned)strlen(key);
  LLVMAttributeRef x = LLVMGetStringAttributeAtIndex(a, LLVMAttributeFunctionIndex, key, klen);
  LLVMAttributeRef y = LLVMGetStringAttributeAtIndex(b, LLVMAttributeFunctionIndex, key, klen);
  if (!x || !y) return !x && !y;
  unsigned lx = 0, ly = 0;
  const char *vx = LLVMGetStringAttributeValue(x, &lx), *vy = LLVMGetStringAttributeValue(y, &ly);
  return lx == ly && !memcmp(vx, vy, lx);
}

/* Whether LLVM could inline `callee` into `caller` at all, as far as function attributes go:
 * the target and the floating-point and safety settings must agree (LLVM's
 * functionsHaveCompatibleAttributes is finer; agreeing exactly is on the safe side). */
static int compatible(LLVMValueRef caller, LLVMValueRef callee) {
  static const char *kKeys[] = {"target-cpu", "target-features", "tune-cpu",
                                "denormal-fp-math", "denormal-fp-math-f32",
                                "null-pointer-is-valid", "probe-stack", "stack-probe-size",
                                "min-legal-vector-width", "no-jump-tables", "use-sample-profile",
                                "branch-target-enforcement", "sign-return-address"};
  for (size_t k = 0; k < sizeof kKeys / sizeof *kKeys; ++k)
    if (!same_string_attribute(caller, callee, kKeys[k])) {
      /* min-legal-vector-width merges (the caller takes the larger); the rest must agree */
      if (!strcmp(kKeys[k], "min-legal-vector-width")) continue;
      return 0;
    }
  static const char *kEnum[] = {"sanitize_address", "sanitize_memory", "sanitize_thread",
                                "sanitize_hwaddress", "sanitize_memtag", "safestack",
                                "shadowcallstack", "speculative_load_hardening"};
  for (size_t k = 0; k < sizeof kEnum / sizeof *kEnum; ++k) {
    unsigned kind = LLVMGetEnumAttributeKindForName(kEnum[k], strlen(kEnum[k]));
    if (!kind) continue;
    int a = LLVMGetEnumAttributeAtIndex(caller, LLVMAttributeFunctionIndex, kind) != NULL;
    int b = LLVMGetEnumAttributeAtIndex(callee, LLVMAttributeFunctionIndex, kind) != NULL;
    if (a != b) return 0;
  }
  return 1;
}

/* Fill the function table (`funcs`, F_COLS per function in module order, declarations
 * included), the call-site table (`sites`, S_COLS per direct call to a defined function, in
 * module order) and the flat chain of ids (`chains`: for each site, the ids read from its
 * location's line and every `inlinedAt` line, innermost first; -1 for a call without a
 * location). `counts` receives the three lengths (functions, sites, chain entries) and
 * `id_count` the number of calls. When a buffer is too small (or NULL), only the counts are
 * filled and 1 is returned; 0 on success, -1 when out of memory. */
int optgym_inline_table(LLVMModuleRef mod, int64_t *funcs, int64_t fcap, int64_t *sites,
                        int64_t scap, int64_t *chains, int64_t ccap, int64_t *counts) {
  unsigned k_noinline = LLVMGetEnumAttributeKindForName("noinline", 8);
  unsigned k_always = LLVMGetEnumAttributeKindForName("alwaysinline", 12);
  unsigned k_returns_twice = LLVMGetEnumAttributeKindForName("returns_twice", 13);
  int64_t nf = 0, ns = 0, nc = 0;
  for (LLVMValueRef f = LLVMGetFirstFunction(mod); f; f = LLVMGetNextFunction(f)) {
    ++nf;
    if (LLVMIsDeclaration(f)) continue;
    for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(f); bb; bb = LLVMGetNextBasicBlock(bb))
      for (LLVMValueRef i = LLVMGetFirstInstruction(bb); i; i = LLVMGetNextInstruction(i)) {
        if (!is_call(i)) continue;
        LLVMValueRef callee = LLVMIsAFunction(LLVMGetCalledValue(i));
        if (!callee || LLVMIsDeclaration(callee)) continue;
        ++ns;
        int64_t len = 0;
        LLVMMetadataRef loc = LLVMInstructionGetDebugLoc(i);
        for (; loc; loc = LLVMDILocationGetInlinedAt(loc)) ++len;
        nc += len ? len : 1;
      }
  }
  counts[0] = nf;
  counts[1] = ns;
  counts[2] = nc;
  if (!funcs || !sites || !chains || fcap < nf * F_COLS || scap < ns * S_COLS || ccap < nc)
    return 1;
  memset(funcs, 0, (size_t)(nf * F_COLS) * sizeof *funcs);
  memset(sites, 0, (size_t)(ns * S_COLS) * sizeof *sites);

  LLVMValueRef *fn = malloc((size_t)(nf + 1) * sizeof *fn);
  int64_t *defined = calloc((size_t)nf + 1, sizeof *defined);
  int64_t *edge_off = calloc((size_t)nf + 2, sizeof *edge_off);
  int64_t *edge = malloc((size_t)(ns + 1) * sizeof *edge);
  Graph g = {nf, edge_off, edge, malloc((size_t)(nf + 1) * sizeof(int64_t)),
             malloc((size_t)(nf + 1) * sizeof(int64_t))};
  Map findex;
  if (!fn || !defined || !edge_off || !edge || !g.scc || !g.level || map_init(&findex, (size_t)nf)) {
    free(fn); free(defined); free(edge_off); free(edge); free(g.scc); free(g.level);
    map_free(&findex);
    return -1;
  }
  int64_t k = 0;
  for (LLVMValueRef f = LLVMGetFirstFunction(mod); f; f = LLVMGetNextFunction(f), ++k) {
    fn[k] = f;
    defined[k] = !LLVMIsDeclaration(f);
    map_put(&findex, f, k);
  }

  /* function properties */
  int64_t ne = 0;
  for (k = 0; k < nf; ++k) {
    LLVMValueRef f = fn[k];
    int64_t *row = funcs + k * F_COLS;
    LLVMLinkage linkage = LLVMGetLinkage(f);
    row[F_DEFINED] = defined[k];
    row[F_LOCAL] = linkage == LLVMInternalLinkage || linkage == LLVMPrivateLinkage;
    row[F_INTERPOSABLE] = linkage == LLVMWeakAnyLinkage || linkage == LLVMLinkOnceAnyLinkage ||
                          linkage == LLVMExternalWeakLinkage || linkage == LLVMCommonLinkage;
    row[F_NOINLINE] = LLVMGetEnumAttributeAtIndex(f, LLVMAttributeFunctionIndex, k_noinline) != NULL;
    row[F_ALWAYSINLINE] = LLVMGetEnumAttributeAtIndex(f, LLVMAttributeFunctionIndex, k_always) != NULL;
    row[F_ARGS] = LLVMCountParams(f);
    row[F_VARARGS] = LLVMIsFunctionVarArg(LLVMGlobalGetValueType(f));
    for (LLVMUseRef u = LLVMGetFirstUse(f); u; u = LLVMGetNextUse(u)) {
      ++row[F_USES];
      LLVMValueRef user = LLVMGetUser(u);
      if (LLVMIsAInstruction(user) && is_call(user) && LLVMGetCalledValue(user) == f)
        ++row[F_CALL_USES];
      else
        row[F_ADDRESS_TAKEN] = 1;
    }
    edge_off[k + 1] = ne;
    if (!defined[k]) continue;
    int viable = 1, blocks = 0;
    for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(f); bb; bb = LLVMGetNextBasicBlock(bb)) {
      int entry = blocks++ == 0;
      for (LLVMValueRef i = LLVMGetFirstInstruction(bb); i; i = LLVMGetNextInstruction(i)) {
        LLVMOpcode op = LLVMGetInstructionOpcode(i);
        ++row[F_INSTRUCTIONS];
        row[F_BODY_COST] += instruction_cost(i, entry);
        if (op == LLVMLoad || op == LLVMStore) ++row[F_MEMORY];
        if (op == LLVMIndirectBr) viable = 0;
        if (!is_call(i)) continue;
        ++row[F_CALLS];
        LLVMValueRef callee = LLVMIsAFunction(LLVMGetCalledValue(i));
        if (LLVMGetCallSiteEnumAttribute(i, LLVMAttributeFunctionIndex, k_returns_twice) ||
            (callee && LLVMGetEnumAttributeAtIndex(callee, LLVMAttributeFunctionIndex,
                                                   k_returns_twice)))
          viable = 0; /* setjmp and friends */
        if (!callee) continue;
        if (callee == f) viable = 0; /* LLVM never inlines a directly recursive function */
        if (starts_with(callee, "llvm.va_start") || starts_with(callee, "llvm.localescape") ||
            starts_with(callee, "llvm.icall.branch.funnel"))
          viable = 0;
        if (!LLVMIsDeclaration(callee)) {
          ++row[F_CALLS_DEFINED];
          edge[ne++] = map_get(&findex, callee);
        }
      }
    }
    edge_off[k + 1] = ne;
    row[F_BLOCKS] = blocks;
    row[F_SINGLE_BLOCK] = blocks == 1;
    row[F_VIABLE] = viable;
    Loops loops;
    if (loops_compute(f, &loops) == 0) {
      row[F_MAX_LOOP_DEPTH] = loops.max_depth;
      row[F_TOP_LOOPS] = loops.top_loops;
      row[F_COND_BLOCKS] = loops.cond_blocks;
      loops_free(&loops);
    }
  }
  tarjan(&g, defined);
  for (k = 0; k < nf; ++k) {
    funcs[k * F_COLS + F_SCC] = g.scc[k];
    funcs[k * F_COLS + F_LEVEL] = g.level[k];
  }

  /* call sites */
  int64_t s = 0, c = 0;
  for (k = 0; k < nf; ++k) {
    if (!defined[k]) continue;
    LLVMValueRef f = fn[k];
    Loops loops;
    int have_loops = loops_compute(f, &loops) == 0;
    int64_t position = 0, b = 0;
    for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(f); bb; bb = LLVMGetNextBasicBlock(bb), ++b) {
      /* conditionally executed: the block's only predecessor branches */
      int cond = 0;
      LLVMValueRef only = NULL;
      int npred = 0;
      for (LLVMUseRef u = LLVMGetFirstUse(LLVMBasicBlockAsValue(bb)); u; u = LLVMGetNextUse(u)) {
        LLVMValueRef user = LLVMGetUser(u);
        if (LLVMIsATerminatorInst(user)) { ++npred; only = user; }
      }
      if (npred == 1 && LLVMGetNumSuccessors(only) > 1) cond = 1;
      for (LLVMValueRef i = LLVMGetFirstInstruction(bb); i; i = LLVMGetNextInstruction(i), ++position) {
        if (!is_call(i)) continue;
        LLVMValueRef callee = LLVMIsAFunction(LLVMGetCalledValue(i));
        if (!callee || LLVMIsDeclaration(callee)) continue;
        int64_t *row = sites + s * S_COLS;
        int64_t ci = map_get(&findex, callee);
        row[S_CALLER] = k;
        row[S_CALLEE] = ci;
        row[S_LOOP_DEPTH] = have_loops ? loops.depth[b] : 0;
        row[S_INVOKE] = LLVMGetInstructionOpcode(i) == LLVMInvoke;
        row[S_NOINLINE] = LLVMGetCallSiteEnumAttribute(i, LLVMAttributeFunctionIndex, k_noinline) != NULL;
        row[S_ALWAYSINLINE] = LLVMGetCallSiteEnumAttribute(i, LLVMAttributeFunctionIndex, k_always) != NULL;
        row[S_ENTRY_BLOCK] = b == 0;
        row[S_COND_BLOCK] = cond;
        row[S_COMPATIBLE] = compatible(f, callee);
        row[S_POSITION] = position;
        unsigned nargs = LLVMGetNumArgOperands(i);
        row[S_ARGS] = nargs;
        int64_t bonus = 0;
        LLVMValueRef param = LLVMGetFirstParam(callee);
        for (unsigned a = 0; a < nargs; ++a, param = param ? LLVMGetNextParam(param) : NULL) {
          LLVMValueRef arg = LLVMGetOperand(i, a);
          if (LLVMIsAConstant(arg) && !LLVMIsAGlobalValue(arg)) {
            ++row[S_CONST_ARGS];
            if (param)
              for (LLVMUseRef u = LLVMGetFirstUse(param); u; u = LLVMGetNextUse(u)) ++bonus;
          }
          if (LLVMIsAAllocaInst(arg)) ++row[S_ALLOCA_ARGS];
        }
        row[S_CONST_ARG_USES] = bonus;
        /* the cost LLVM would find, roughly: the callee's body, minus what the call costs
         * (argument setup, the call, its penalty), minus the uses a constant argument folds,
         * minus the bonus for the last call to a local function */
        const int64_t *crow = funcs + ci * F_COLS;
        int64_t cost = crow[F_BODY_COST] - (INSTR_COST * (int64_t)nargs + INSTR_COST + CALL_PENALTY) -
                       INSTR_COST * bonus;
        if (crow[F_LOCAL] && crow[F_USES] == 1) cost -= LAST_CALL_TO_STATIC_BONUS;
        row[S_COST] = cost;
        row[S_CHAIN_START] = c;
        int64_t len = 0;
        for (LLVMMetadataRef loc = LLVMInstructionGetDebugLoc(i); loc;
             loc = LLVMDILocationGetInlinedAt(loc)) {
          chains[c++] = (int64_t)LLVMDILocationGetLine(loc) - 1;
          ++len;
        }
        if (!len) { chains[c++] = -1; len = 1; }
        row[S_CHAIN_LEN] = len;
        ++s;
      }
    }
    if (have_loops) loops_free(&loops);
  }
  free(fn); free(defined); free(edge_off); free(edge); free(g.scc); free(g.level);
  map_free(&findex);
  return 0;
}

/* For each call (in id order: module order), the index of the function holding it, in module
 * order of functions. Returns the number of calls; fills `out` only when `cap` is enough. */
int64_t optgym_inline_call_functions(LLVMModuleRef mod, int64_t *out, int64_t cap) {
  int64_t n = 0, k = 0;
  for (LLVMValueRef f = LLVMGetFirstFunction(mod); f; f = LLVMGetNextFunction(f), ++k)
    for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(f); bb; bb = LLVMGetNextBasicBlock(bb))
      for (LLVMValueRef i = LLVMGetFirstInstruction(bb); i; i = LLVMGetNextInstruction(i))
        if (is_call(i)) {
          if (out && n < cap) out[n] = k;
          ++n;
        }
  return n;
}
