/* ProGraML-style program graphs of an LLVM module, built over the LLVM-C API.
 *
 * One call, optgym_graph_build(), walks the module and fills flat arrays that this file owns;
 * Python copies them out with numpy and calls optgym_graph_free(). Nothing is done per node
 * across ctypes, which is what keeps a 1,000-instruction module well under a millisecond.
 * The schema and where it differs from ProGraML are described in optgym/programgraphs/builder.py.
 *
 * Node order in the result: the root, then one node per instruction (and one per declared
 * function) in module order, then variables, constants and types. While building, edges name
 * their endpoints as (kind << 30 | index within kind) and are resolved to node indices at the end.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <llvm-c/Core.h>

enum { K_INST = 0, K_VAR = 1, K_CONST = 2, K_TYPE = 3 };
enum { FLOW_CONTROL = 0, FLOW_DATA = 1, FLOW_CALL = 2, FLOW_TYPE = 3 };
#define TAG(kind, i) (((uint32_t)(kind) << 30) | (uint32_t)(i))

/* ---- growable arrays -------------------------------------------------------------------- */
typedef struct {
  void *data;
  size_t n, cap, size;
} Vec;

static int vec_reserve(Vec *v, size_t extra) {
  if (v->n + extra <= v->cap) return 0;
  size_t cap = v->cap ? v->cap : 64;
  while (cap < v->n + extra) cap *= 2;
  void *p = realloc(v->data, cap * v->size);
  if (!p) return -1;
  v->data = p;
  v->cap = cap;
  return 0;
}

#define VEC(T) ((Vec){NULL, 0, 0, sizeof(T)})
#define AT(v, T, i) (((T *)(v).data)[i])
#define PUSH(v, T, x)                           \
  do {                                          \
    if (vec_reserve(&(v), 1)) goto oom;         \
    ((T *)(v).data)[(v).n++] = (T)(x);          \
  } while (0)

/* ---- pointer -> int32 open-addressing map ---------------------------------------------- */
typedef struct {
  const void **keys;
  int32_t *vals;
  size_t cap, n;
} PtrMap;

static size_t pm_hash(const void *p, size_t cap) {
  uintptr_t h = (uintptr_t)p;
  h ^= h >> 17;
  h *= (uintptr_t)0x9E3779B97F4A7C15ull;
  h ^= h >> 29;
  return (size_t)(h & (cap - 1));
}

static int pm_init(PtrMap *m, size_t expected) {
  size_t cap = 64;
  while (cap < 2 * expected + 2) cap <<= 1;
  m->cap = cap;
  m->n = 0;
  m->keys = calloc(cap, sizeof(*m->keys));
  m->vals = malloc(cap * sizeof(*m->vals));
  return m->keys && m->vals ? 0 : -1;
}

static void pm_free(PtrMap *m) {
  free(m->keys);
  free(m->vals);
}

static int32_t pm_get(const PtrMap *m, const void *k) {
  size_t i = pm_hash(k, m->cap);
  while (m->keys[i]) {
    if (m->keys[i] == k) return m->vals[i];
    i = (i + 1) & (m->cap - 1);
  }
  return -1;
}

static int pm_put(PtrMap *m, const void *k, int32_t v) {
  if (2 * (m->n + 1) > m->cap) {
    PtrMap bigger;
    if (pm_init(&bigger, m->cap)) return -1;
    for (size_t i = 0; i < m->cap; ++i)
      if (m->keys[i]) pm_put(&bigger, m->keys[i], m->vals[i]);
    pm_free(m);
    *m = bigger;
  }
  size_t i = pm_hash(k, m->cap);
  while (m->keys[i] && m->keys[i] != k) i = (i + 1) & (m->cap - 1);
  if (!m->keys[i]) ++m->n;
  m->keys[i] = k;
  m->vals[i] = v;
  return 0;
}

/* ---- the result handed to Python ------------------------------------------------------- */
typedef struct {
  int64_t num_nodes, num_edges, num_texts, num_functions;
  int8_t *node_type;
  int32_t *node_text; /* index into texts */
  int32_t *node_function;
  int32_t *node_block;
  int32_t *edge_source, *edge_target, *edge_position;
  int8_t *edge_flow;
  /* texts and function names: NUL-separated strings in one buffer */
  char *texts;
  int64_t texts_len;
  char *function_names;
  int64_t function_names_len;
  /* full text (only when asked): node i is full_text[full_start[i] : full_start[i+1]] */
  int64_t *full_start;
  char *full_text;
} OgGraph;

/* One kind of node while building: its text, function, block and full-text span. */
typedef struct {
  Vec text, function, block, ft_start, ft_len;
} Kind;

typedef struct {
  int want_full;
  Kind kinds[4];
  Vec esrc, edst, eflow, epos; /* tagged endpoints */
  Vec texts;                   /* NUL-separated interned texts (char) */
  Vec text_off;                /* int64 start of each interned text */
  Vec fnames;                  /* NUL-separated function names (char) */
  Vec blob;                    /* full texts (char) */
  PtrMap insts, vars, consts, types, funcs;
  Vec fn_entry, fn_exit_start, fn_exit_count, exits; /* int32, per function / flat */
  Vec call_node, call_callee;                        /* int32 node, LLVMValueRef */
  int32_t opcode_text[128];
  int32_t fixed_text[8];
} Builder;

enum { T_ROOT, T_DECL, T_VAR, T_VAL, T_PTR, T_STRUCT, T_ARRAY, T_VECTOR };
static const char *kFixedTexts[8] = {"[external]", "; undefined function", "var", "val",
                                     "*", "struct", "[]", "vector"};

static const char *opcode_name(LLVMOpcode op) {
  switch (op) {
    case LLVMRet: return "ret";
    case LLVMBr: return "br";
    case LLVMSwitch: return "switch";
    case LLVMIndirectBr: return "indirectbr";
    case LLVMInvoke: return "invoke";
    case LLVMUnreachable: return "unreachable";
    case LLVMCallBr: return "callbr";
    case LLVMFNeg: return "fneg";
    case LLVMAdd: return "add";
    case LLVMFAdd: return "fadd";
    case LLVMSub: return "sub";
    case LLVMFSub: return "fsub";
    case LLVMMul: return "mul";
    case LLVMFMul: return "fmul";
    case LLVMUDiv: return "udiv";
    case LLVMSDiv: return "sdiv";
    case LLVMFDiv: return "fdiv";
    case LLVMURem: return "urem";
    case LLVMSRem: return "srem";
    case LLVMFRem: return "frem";
    case LLVMShl: return "shl";
    case LLVMLShr: return "lshr";
    case LLVMAShr: return "ashr";
    case LLVMAnd: return "and";
    case LLVMOr: return "or";
    case LLVMXor: return "xor";
    case LLVMAlloca: return "alloca";
    case LLVMLoad: return "load";
    case LLVMStore: return "store";
    case LLVMGetElementPtr: return "getelementptr";
    case LLVMTrunc: return "trunc";
    case LLVMZExt: return "zext";
    case LLVMSExt: return "sext";
    case LLVMFPToUI: return "fptoui";
    case LLVMFPToSI: return "fptosi";
    case LLVMUIToFP: return "uitofp";
    case LLVMSIToFP: return "sitofp";
    case LLVMFPTrunc: return "fptrunc";
    case LLVMFPExt: return "fpext";
    case LLVMPtrToInt: return "ptrtoint";
    case LLVMIntToPtr: return "inttoptr";
    case LLVMBitCast: return "bitcast";
    case LLVMAddrSpaceCast: return "addrspacecast";
    case LLVMICmp: return "icmp";
    case LLVMFCmp: return "fcmp";
    case LLVMPHI: return "phi";
    case LLVMCall: return "call";
    case LLVMSelect: return "select";
    case LLVMUserOp1: return "userop1";
    case LLVMUserOp2: return "userop2";
    case LLVMVAArg: return "va_arg";
    case LLVMExtractElement: return "extractelement";
    case LLVMInsertElement: return "insertelement";
    case LLVMShuffleVector: return "shufflevector";
    case LLVMExtractValue: return "extractvalue";
    case LLVMInsertValue: return "insertvalue";
    case LLVMFreeze: return "freeze";
    case LLVMFence: return "fence";
    case LLVMAtomicCmpXchg: return "cmpxchg";
    case LLVMAtomicRMW: return "atomicrmw";
    case LLVMResume: return "resume";
    case LLVMLandingPad: return "landingpad";
    case LLVMCleanupRet: return "cleanupret";
    case LLVMCatchRet: return "catchret";
    case LLVMCatchPad: return "catchpad";
    case LLVMCleanupPad: return "cleanuppad";
    case LLVMCatchSwitch: return "catchswitch";
  }
  return "<unknown opcode>";
}

/* Intern a text; linear search is fine because it runs once per distinct type, not per node. */
static int32_t intern(Builder *b, const char *s, size_t len) {
  for (size_t i = 0; i < b->text_off.n; ++i) {
    const char *t = (const char *)b->texts.data + AT(b->text_off, int64_t, i);
    if (strlen(t) == len && memcmp(t, s, len) == 0) return (int32_t)i;
  }
  if (vec_reserve(&b->texts, len + 1) || vec_reserve(&b->text_off, 1)) return -1;
  AT(b->text_off, int64_t, b->text_off.n++) = (int64_t)b->texts.n;
  memcpy((char *)b->texts.data + b->texts.n, s, len);
  b->texts.n += len;
  ((char *)b->texts.data)[b->texts.n++] = '\0';
  return (int32_t)(b->text_off.n - 1);
}

static int32_t fixed_text(Builder *b, int which) {
  if (b->fixed_text[which] < 0)
    b->fixed_text[which] = intern(b, kFixedTexts[which], strlen(kFixedTexts[which]));
  return b->fixed_text[which];
}

/* Append bytes to the full-text blob; returns the start offset or -1. */
static int64_t blob_add(Builder *b, const char *s, size_t len) {
  if (vec_reserve(&b->blob, len)) return -1;
  int64_t start = (int64_t)b->blob.n;
  memcpy((char *)b->blob.data + b->blob.n, s, len);
  b->blob.n += len;
  return start;
}

/* A new node of a kind; returns its index within the kind or -1 when out of memory. */
static int32_t add_node(Builder *b, int kind, int32_t text, int32_t fn, int32_t block,
                        int64_t ft_start, int32_t ft_len) {
  Kind *k = &b->kinds[kind];
  if (text < 0) return -1;
  PUSH(k->text, int32_t, text);
  PUSH(k->function, int32_t, fn);
  PUSH(k->block, int32_t, block);
  if (b->want_full) {
    PUSH(k->ft_start, int64_t, ft_start);
    PUSH(k->ft_len, int32_t, ft_len);
  }
  return (int32_t)(k->text.n - 1);
oom:
  return -1;
}

static int add_edge(Builder *b, uint32_t src, uint32_t dst, int flow, int32_t pos) {
  PUSH(b->esrc, uint32_t, src);
  PUSH(b->edst, uint32_t, dst);
  PUSH(b->eflow, int8_t, flow);
  PUSH(b->epos, int32_t, pos);
  return 0;
oom:
  return -1;
}

static int64_t blob_add_message(Builder *b, char *msg, int32_t *len) {
  size_t n = strlen(msg);
  int64_t start = blob_add(b, msg, n);
  LLVMDisposeMessage(msg);
  *len = (int32_t)n;
  return start;
}

/* The type node of a type, created (with its element types) on first use. */
static int32_t get_type(Builder *b, LLVMTypeRef t) {
  int32_t idx = pm_get(&b->types, t);
  if (idx >= 0) return idx;
  LLVMTypeKind kind = LLVMGetTypeKind(t);
  int32_t text;
  char *printed = LLVMPrintTypeToString(t);
  switch (kind) {
    case LLVMStructTypeKind: text = fixed_text(b, T_STRUCT); break;
    case LLVMPointerTypeKind: text = fixed_text(b, T_PTR); break;
    case LLVMArrayTypeKind: text = fixed_text(b, T_ARRAY); break;
    case LLVMVectorTypeKind:
    case LLVMScalableVectorTypeKind: text = fixed_text(b, T_VECTOR); break;
    default: text = intern(b, printed, strlen(printed)); break;
  }
  int64_t ft_start = 0;
  int32_t ft_len = 0;
  const char *struct_name = kind == LLVMStructTypeKind ? LLVMGetStructName(t) : NULL;
  if (b->want_full && struct_name && *struct_name) {
    /* a named struct prints as its whole definition; as an operand type it is "%name" */
    LLVMDisposeMessage(printed);
    ft_start = blob_add(b, "%", 1);
    if (ft_start < 0 || blob_add(b, struct_name, strlen(struct_name)) < 0) return -1;
    ft_len = (int32_t)(strlen(struct_name) + 1);
  } else if (b->want_full) {
    ft_start = blob_add_message(b, printed, &ft_len);
    if (ft_start < 0) return -1;
  } else {
    LLVMDisposeMessage(printed);
  }
  idx = add_node(b, K_TYPE, text, -1, -1, ft_start, ft_len);
  if (idx < 0 || pm_put(&b->types, t, idx)) return -1;
  if (kind == LLVMStructTypeKind) {
    unsigned n = LLVMCountStructElementTypes(t);
    for (unsigned i = 0; i < n; ++i) {
      int32_t member = get_type(b, LLVMStructGetTypeAtIndex(t, i));
      if (member < 0 || add_edge(b, TAG(K_TYPE, member), TAG(K_TYPE, idx), FLOW_TYPE, (int32_t)i))
        return -1;
    }
  } else if (kind == LLVMArrayTypeKind || kind == LLVMVectorTypeKind ||
             kind == LLVMScalableVectorTypeKind) {
    int32_t elem = get_type(b, LLVMGetElementType(t));
    if (elem < 0 || add_edge(b, TAG(K_TYPE, elem), TAG(K_TYPE, idx), FLOW_TYPE, 0)) return -1;
  }
  return idx;
}

/* "%name" for an argument or instruction result, as the IR printer would write it. */
static int append_value_name(Builder *b, LLVMValueRef v, int32_t unnamed_slot, char sigil) {
  size_t len = 0;
  const char *name = LLVMGetValueName2(v, &len);
  char buf[32];
  if (!len) {
    int n = snprintf(buf, sizeof buf, "%c%d", sigil, unnamed_slot);
    return blob_add(b, buf, (size_t)n) < 0 ? -1 : 0;
  }
  int plain = !(name[0] >= '0' && name[0] <= '9');
  for (size_t i = 0; i < len && plain; ++i) {
    char c = name[i];
    plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '$' || c == '.' || c == '_';
  }
  char open[2] = {sigil, '"'};
  if (blob_add(b, open, plain ? 1 : 2) < 0) return -1;
  if (blob_add(b, name, len) < 0) return -1;
  return plain || blob_add(b, "\"", 1) >= 0 ? 0 : -1;
}

/* Full text of a variable: "<type> <name>" (ProGraML's left-hand side). */
static int var_full_text(Builder *b, LLVMValueRef v, int32_t type_idx, int32_t def_node,
                         int32_t arg_slot, char sigil, int64_t *start, int32_t *len) {
  Kind *types = &b->kinds[K_TYPE];
  int64_t ts = AT(types->ft_start, int64_t, type_idx);
  int32_t tl = AT(types->ft_len, int32_t, type_idx);
  if (vec_reserve(&b->blob, (size_t)tl + 1)) return -1;
  *start = (int64_t)b->blob.n;
  memmove((char *)b->blob.data + b->blob.n, (char *)b->blob.data + ts, (size_t)tl);
  b->blob.n += (size_t)tl;
  ((char *)b->blob.data)[b->blob.n++] = ' ';
  if (def_node >= 0) {
    /* The instruction's printed text starts with "%name = " for every value it defines. */
    Kind *insts = &b->kinds[K_INST];
    int64_t is = AT(insts->ft_start, int64_t, def_node);
    int32_t il = AT(insts->ft_len, int32_t, def_node);
    const char *text = (const char *)b->blob.data + is;
    int32_t n = 0;
    while (n + 2 < il && !(text[n] == ' ' && text[n + 1] == '=' && text[n + 2] == ' ')) ++n;
    if (n + 2 >= il) n = 0;
    if (vec_reserve(&b->blob, (size_t)n)) return -1;
    memmove((char *)b->blob.data + b->blob.n, (char *)b->blob.data + is, (size_t)n);
    b->blob.n += (size_t)n;
  } else if (append_value_name(b, v, arg_slot, sigil)) {
    return -1;
  }
  *len = (int32_t)((int64_t)b->blob.n - *start);
  return 0;
}

/* The variable node of an instruction result or argument, created on its first use. */
static int32_t get_var(Builder *b, LLVMValueRef v, int is_inst, int32_t fn,
                       int32_t entry_block) {
  int32_t idx = pm_get(&b->vars, v);
  if (idx >= 0) return idx;
  int32_t def = is_inst ? pm_get(&b->insts, v) : -1;
  int32_t block = def >= 0 ? AT(b->kinds[K_INST].block, int32_t, def) : entry_block;
  int32_t type = get_type(b, LLVMTypeOf(v));
  if (type < 0) return -1;
  int64_t ft_start = 0;
  int32_t ft_len = 0;
  if (b->want_full) {
    int32_t slot = 0;
    if (def < 0) { /* unnamed arguments are numbered %0, %1, ... in order */
      LLVMValueRef f = LLVMGetParamParent(v);
      size_t len;
      for (LLVMValueRef a = LLVMGetFirstParam(f); a && a != v; a = LLVMGetNextParam(a))
        if (!(LLVMGetValueName2(a, &len), len)) ++slot;
    }
    if (var_full_text(b, v, type, def, slot, '%', &ft_start, &ft_len)) return -1;
  }
  idx = add_node(b, K_VAR, fixed_text(b, T_VAR), fn, block, ft_start, ft_len);
  if (idx < 0 || pm_put(&b->vars, v, idx)) return -1;
  if (def >= 0 && add_edge(b, TAG(K_INST, def), TAG(K_VAR, idx), FLOW_DATA, 0)) return -1;
  if (add_edge(b, TAG(K_TYPE, type), TAG(K_VAR, idx), FLOW_TYPE, 0)) return -1;
  return idx;
}

/* The constant node of a constant (globals and address-taken functions included). */
static int32_t get_const(Builder *b, LLVMValueRef c) {
  int32_t idx = pm_get(&b->consts, c);
  if (idx >= 0) return idx;
  int32_t type = get_type(b, LLVMTypeOf(c));
  if (type < 0) return -1;
  int64_t ft_start = 0;
  int32_t ft_len = 0;
  if (b->want_full) {
    if (LLVMIsAFunction(c)) { /* printing a function would print its whole body */
      if (var_full_text(b, c, type, -1, 0, '@', &ft_start, &ft_len)) return -1;
    } else {
      ft_start = blob_add_message(b, LLVMPrintValueToString(c), &ft_len);
      if (ft_start < 0) return -1;
    }
  }
  idx = add_node(b, K_CONST, fixed_text(b, T_VAL), -1, -1, ft_start, ft_len);
  if (idx < 0 || pm_put(&b->consts, c, idx)) return -1;
  if (add_edge(b, TAG(K_TYPE, type), TAG(K_CONST, idx), FLOW_TYPE, 0)) return -1;
  return idx;
}

/* Full texts of a function's instructions, from the printed module (printing each instruction
 * alone renumbers the whole function every time, which is quadratic). `*cursor` walks the
 * module text; returns the number of instruction lines recorded, or -1 when out of memory. */
static int64_t scan_function_text(Builder *b, const char **cursor, int32_t first_node,
                                  int64_t count) {
  const char *p = *cursor;
  while (*p && strncmp(p, "define ", 7) != 0) {
    const char *nl = strchr(p, '\n');
    p = nl ? nl + 1 : p + strlen(p);
  }
  if (!*p) return 0;
  int64_t seen = 0;
  Kind *insts = &b->kinds[K_INST];
  for (const char *nl = strchr(p, '\n'); nl; nl = strchr(p, '\n')) {
    p = nl + 1;
    const char *end = strchr(p, '\n');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    if (len >= 1 && p[0] == '}') break;
    /* an instruction line; "  ]" closes a multi-line switch */
    if (len > 2 && p[0] == ' ' && p[1] == ' ' && p[2] != ' ' && p[2] != ']') {
      if (p[len - 1] == '[') { /* a switch lists its cases on the lines up to "  ]" */
        const char *q = p + len;
        while (*q == '\n' && strncmp(q + 1, "  ]", 3) != 0) {
          const char *e2 = strchr(q + 1, '\n');
          q = e2 ? e2 : q + 1 + strlen(q + 1);
        }
        if (*q == '\n') q += 4;
        len = (size_t)(q - p);
      }
      if (seen < count) {
        int64_t start = blob_add(b, p + 2, len - 2);
        if (start < 0) return -1;
        AT(insts->ft_start, int64_t, first_node + seen) = start;
        AT(insts->ft_len, int32_t, first_node + seen) = (int32_t)(len - 2);
      }
      ++seen;
    }
  }
  *cursor = p;
  return seen;
}

static int fill_full_texts(Builder *b, LLVMModuleRef mod, const int32_t *first_nodes) {
  char *module_text = LLVMPrintModuleToString(mod);
  const char *cursor = module_text;
  int fn = 0, status = 0;
  Kind *insts = &b->kinds[K_INST];
  for (LLVMValueRef f = LLVMGetFirstFunction(mod); f; f = LLVMGetNextFunction(f), ++fn) {
    if (LLVMIsDeclaration(f)) continue;
    int32_t first = first_nodes[fn];
    int64_t count = 0;
    for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(f); bb; bb = LLVMGetNextBasicBlock(bb))
      for (LLVMValueRef i = LLVMGetFirstInstruction(bb); i; i = LLVMGetNextInstruction(i))
        ++count;
    int64_t seen = scan_function_text(b, &cursor, first, count);
    if (seen < 0) { status = -1; break; }
    if (seen != count) { /* unexpected printer layout: print instructions one by one */
      int32_t node = first;
      for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(f); bb; bb = LLVMGetNextBasicBlock(bb))
        for (LLVMValueRef i = LLVMGetFirstInstruction(bb); i; i = LLVMGetNextInstruction(i)) {
          char *s = LLVMPrintValueToString(i);
          char *t = s;
          while (*t == ' ') ++t;
          int64_t start = blob_add(b, t, strlen(t));
          AT(insts->ft_len, int32_t, node) = (int32_t)strlen(t);
          LLVMDisposeMessage(s);
          if (start < 0) { status = -1; break; }
          AT(insts->ft_start, int64_t, node++) = start;
        }
    }
  }
  LLVMDisposeMessage(module_text);
  return status;
}

static void builder_free(Builder *b) {
  for (int k = 0; k < 4; ++k) {
    Kind *kind = &b->kinds[k];
    free(kind->text.data);
    free(kind->function.data);
    free(kind->block.data);
    free(kind->ft_start.data);
    free(kind->ft_len.data);
  }
  Vec *vecs[] = {&b->esrc, &b->edst, &b->eflow, &b->epos, &b->texts, &b->text_off,
                 &b->fnames, &b->blob, &b->fn_entry, &b->fn_exit_start, &b->fn_exit_count,
                 &b->exits, &b->call_node, &b->call_callee};
  for (size_t i = 0; i < sizeof vecs / sizeof *vecs; ++i) free(vecs[i]->data);
  pm_free(&b->insts);
  pm_free(&b->vars);
  pm_free(&b->consts);
  pm_free(&b->types);
  pm_free(&b->funcs);
}

void optgym_graph_free(OgGraph *g) {
  if (!g) return;
  free(g->node_type);
  free(g->node_text);
  free(g->node_function);
  free(g->node_block);
  free(g->edge_source);
  free(g->edge_target);
  free(g->edge_position);
  free(g->edge_flow);
  free(g->texts);
  free(g->function_names);
  free(g->full_start);
  free(g->full_text);
  free(g);
}

static int add_call_site(Builder *b, int32_t site, int32_t callee) {
  int32_t entry = AT(b->fn_entry, int32_t, callee);
  int32_t start = AT(b->fn_exit_start, int32_t, callee);
  int32_t count = AT(b->fn_exit_count, int32_t, callee);
  if (add_edge(b, TAG(K_INST, site), TAG(K_INST, entry), FLOW_CALL, 0)) return -1;
  for (int32_t e = 0; e < count; ++e)
    if (add_edge(b, TAG(K_INST, AT(b->exits, int32_t, start + e)), TAG(K_INST, site),
                 FLOW_CALL, 0))
      return -1;
  return 0;
}

/* Move the builder's per-kind arrays into the flat result. */
static OgGraph *finish(Builder *b) {
  OgGraph *g = calloc(1, sizeof *g);
  if (!g) return NULL;
  int64_t offset[4], n = 0;
  for (int k = 0; k < 4; ++k) {
    offset[k] = n;
    n += (int64_t)b->kinds[k].text.n;
  }
  int64_t e = (int64_t)b->esrc.n;
  g->num_nodes = n;
  g->num_edges = e;
  g->node_type = malloc((size_t)n + 1);
  g->node_text = malloc(4 * (size_t)n + 4);
  g->node_function = malloc(4 * (size_t)n + 4);
  g->node_block = malloc(4 * (size_t)n + 4);
  g->edge_source = malloc(4 * (size_t)e + 4);
  g->edge_target = malloc(4 * (size_t)e + 4);
  g->edge_position = malloc(4 * (size_t)e + 4);
  g->edge_flow = malloc((size_t)e + 1);
  if (!g->node_type || !g->node_text || !g->node_function || !g->node_block ||
      !g->edge_source || !g->edge_target || !g->edge_position || !g->edge_flow)
    goto oom;
  for (int k = 0; k < 4; ++k) {
    Kind *kind = &b->kinds[k];
    size_t m = kind->text.n;
    memset(g->node_type + offset[k], k == K_INST ? 0 : k, m);
    if (!m) continue;
    memcpy(g->node_text + offset[k], kind->text.data, 4 * m);
    memcpy(g->node_function + offset[k], kind->function.data, 4 * m);
    memcpy(g->node_block + offset[k], kind->block.data, 4 * m);
  }
  for (int64_t i = 0; i < e; ++i) {
    uint32_t s = AT(b->esrc, uint32_t, i), t = AT(b->edst, uint32_t, i);
    g->edge_source[i] = (int32_t)(offset[s >> 30] + (s & 0x3FFFFFFFu));
    g->edge_target[i] = (int32_t)(offset[t >> 30] + (t & 0x3FFFFFFFu));
  }
  if (e) {
    memcpy(g->edge_position, b->epos.data, 4 * (size_t)e);
    memcpy(g->edge_flow, b->eflow.data, (size_t)e);
  }
  g->num_texts = (int64_t)b->text_off.n;
  g->texts_len = (int64_t)b->texts.n;
  g->texts = b->texts.data;
  b->texts.data = NULL;
  g->function_names_len = (int64_t)b->fnames.n;
  g->function_names = b->fnames.data;
  b->fnames.data = NULL;
  if (b->want_full) {
    /* Lay the full texts out in node order so Python can split them with one offsets array. */
    g->full_start = malloc(8 * ((size_t)n + 1));
    g->full_text = malloc(b->blob.n + 1);
    if (!g->full_start || !g->full_text) goto oom;
    int64_t pos = 0, node = 0;
    for (int k = 0; k < 4; ++k) {
      Kind *kind = &b->kinds[k];
      for (size_t i = 0; i < kind->text.n; ++i, ++node) {
        int32_t len = AT(kind->ft_len, int32_t, i);
        g->full_start[node] = pos;
        memcpy(g->full_text + pos, (char *)b->blob.data + AT(kind->ft_start, int64_t, i),
               (size_t)len);
        pos += len;
      }
    }
    g->full_start[n] = pos;
  }
  return g;
oom:
  optgym_graph_free(g);
  return NULL;
}

/* Build the program graph of `mod`; with `want_full_text`, also every node's printed text.
 * Returns NULL only when out of memory. */
OgGraph *optgym_graph_build(LLVMModuleRef mod, int want_full_text) {
  Builder b;
  memset(&b, 0, sizeof b);
  b.want_full = want_full_text;
  for (int k = 0; k < 4; ++k) {
    b.kinds[k].text = VEC(int32_t);
    b.kinds[k].function = VEC(int32_t);
    b.kinds[k].block = VEC(int32_t);
    b.kinds[k].ft_start = VEC(int64_t);
    b.kinds[k].ft_len = VEC(int32_t);
  }
  b.esrc = VEC(uint32_t);
  b.edst = VEC(uint32_t);
  b.eflow = VEC(int8_t);
  b.epos = VEC(int32_t);
  b.texts = VEC(char);
  b.text_off = VEC(int64_t);
  b.fnames = VEC(char);
  b.blob = VEC(char);
  b.fn_entry = VEC(int32_t);
  b.fn_exit_start = VEC(int32_t);
  b.fn_exit_count = VEC(int32_t);
  b.exits = VEC(int32_t);
  b.call_node = VEC(int32_t);
  b.call_callee = VEC(LLVMValueRef);
  for (int i = 0; i < 128; ++i) b.opcode_text[i] = -1;
  for (int i = 0; i < 8; ++i) b.fixed_text[i] = -1;
  OgGraph *g = NULL;
  Vec first_nodes = VEC(int32_t), entry_blocks = VEC(int32_t);

  int64_t ninst = 0, nfunc = 0;
  for (LLVMValueRef f = LLVMGetFirstFunction(mod); f; f = LLVMGetNextFunction(f)) {
    ++nfunc;
    for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(f); bb; bb = LLVMGetNextBasicBlock(bb))
      for (LLVMValueRef i = LLVMGetFirstInstruction(bb); i; i = LLVMGetNextInstruction(i))
        ++ninst;
  }
  if (pm_init(&b.insts, (size_t)ninst) || pm_init(&b.vars, (size_t)ninst / 2) ||
      pm_init(&b.consts, 64) || pm_init(&b.types, 64) || pm_init(&b.funcs, (size_t)nfunc))
    goto oom;
  if (vec_reserve(&b.kinds[K_INST].text, (size_t)(ninst + nfunc + 1))) goto oom;
  /* Real modules have about 4 edges and 0.7 variables per instruction: reserve that much. */
  size_t nedges = (size_t)(4 * ninst + 64);
  if (vec_reserve(&b.esrc, nedges) || vec_reserve(&b.edst, nedges) ||
      vec_reserve(&b.eflow, nedges) || vec_reserve(&b.epos, nedges) ||
      vec_reserve(&b.kinds[K_VAR].text, (size_t)ninst + 1) ||
      vec_reserve(&b.kinds[K_VAR].function, (size_t)ninst + 1) ||
      vec_reserve(&b.kinds[K_VAR].block, (size_t)ninst + 1) ||
      vec_reserve(&b.kinds[K_INST].function, (size_t)(ninst + nfunc + 1)) ||
      vec_reserve(&b.kinds[K_INST].block, (size_t)(ninst + nfunc + 1)))
    goto oom;

  if (add_node(&b, K_INST, fixed_text(&b, T_ROOT), -1, -1, 0, 0) < 0) goto oom;

  /* Pass 1: a node per instruction (or per declaration), numbered in module order. */
  int32_t fn = 0, block = 0;
  for (LLVMValueRef f = LLVMGetFirstFunction(mod); f; f = LLVMGetNextFunction(f), ++fn) {
    size_t len = 0;
    const char *name = LLVMGetValueName2(f, &len);
    if (vec_reserve(&b.fnames, len + 1)) goto oom;
    memcpy((char *)b.fnames.data + b.fnames.n, name, len);
    b.fnames.n += len;
    ((char *)b.fnames.data)[b.fnames.n++] = '\0';
    if (pm_put(&b.funcs, f, fn)) goto oom;
    PUSH(first_nodes, int32_t, (int32_t)b.kinds[K_INST].text.n);
    PUSH(entry_blocks, int32_t, LLVMIsDeclaration(f) ? -1 : block);
    if (LLVMIsDeclaration(f)) {
      if (add_node(&b, K_INST, fixed_text(&b, T_DECL), fn, -1, 0, 0) < 0) goto oom;
      continue;
    }
    for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(f); bb;
         bb = LLVMGetNextBasicBlock(bb), ++block)
      for (LLVMValueRef i = LLVMGetFirstInstruction(bb); i; i = LLVMGetNextInstruction(i)) {
        LLVMOpcode op = LLVMGetInstructionOpcode(i);
        int slot = (op >= 0 && op < 128) ? op : 0;
        if (b.opcode_text[slot] < 0) {
          const char *text = opcode_name(op);
          b.opcode_text[slot] = intern(&b, text, strlen(text));
        }
        int32_t node = add_node(&b, K_INST, b.opcode_text[slot], fn, block, 0, 0);
        if (node < 0 || pm_put(&b.insts, i, node)) goto oom;
      }
  }
  if (b.want_full && fill_full_texts(&b, mod, (const int32_t *)first_nodes.data)) goto oom;

  /* Pass 2: control, data and type edges; function entries and exits; call sites. */
  fn = 0;
  for (LLVMValueRef f = LLVMGetFirstFunction(mod); f; f = LLVMGetNextFunction(f), ++fn) {
    int32_t first = AT(first_nodes, int32_t, fn);
    PUSH(b.fn_entry, int32_t, first);
    PUSH(b.fn_exit_start, int32_t, (int32_t)b.exits.n);
    if (LLVMIsDeclaration(f)) {
      PUSH(b.exits, int32_t, first);
      PUSH(b.fn_exit_count, int32_t, 1);
      continue;
    }
    int32_t entry_block = AT(entry_blocks, int32_t, fn);
    int32_t node = first;
    for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(f); bb; bb = LLVMGetNextBasicBlock(bb)) {
      for (LLVMValueRef i = LLVMGetFirstInstruction(bb); i;
           i = LLVMGetNextInstruction(i), ++node) {
        LLVMValueRef next = LLVMGetNextInstruction(i);
        if (next) {
          if (add_edge(&b, TAG(K_INST, node), TAG(K_INST, node + 1), FLOW_CONTROL, 0)) goto oom;
        } else {
          unsigned nsucc = LLVMIsATerminatorInst(i) ? LLVMGetNumSuccessors(i) : 0;
          for (unsigned s = 0; s < nsucc; ++s) {
            LLVMValueRef head = LLVMGetFirstInstruction(LLVMGetSuccessor(i, s));
            if (add_edge(&b, TAG(K_INST, node), TAG(K_INST, pm_get(&b.insts, head)),
                         FLOW_CONTROL, (int32_t)s))
              goto oom;
          }
          if (!nsucc) PUSH(b.exits, int32_t, node);
        }
        LLVMOpcode op = LLVMGetInstructionOpcode(i);
        int is_call = op == LLVMCall || op == LLVMInvoke || op == LLVMCallBr;
        int nops = LLVMGetNumOperands(i);
        for (int k = 0; k < nops; ++k) {
          LLVMValueRef v = LLVMGetOperand(i, k);
          int32_t src;
          if (!v) continue;
          LLVMValueKind vk = LLVMGetValueKind(v);
          if (vk == LLVMFunctionValueKind && is_call && k == nops - 1) {
            PUSH(b.call_node, int32_t, node);
            PUSH(b.call_callee, LLVMValueRef, v);
            continue;
          }
          if (vk == LLVMInstructionValueKind || vk == LLVMArgumentValueKind) {
            src = get_var(&b, v, vk == LLVMInstructionValueKind, fn, entry_block);
            if (src < 0) goto oom;
            src = (int32_t)TAG(K_VAR, src);
          } else if (vk == LLVMBasicBlockValueKind || vk == LLVMInlineAsmValueKind ||
                     vk == LLVMMetadataAsValueValueKind || vk == LLVMMemoryUseValueKind ||
                     vk == LLVMMemoryDefValueKind || vk == LLVMMemoryPhiValueKind) {
            continue; /* blocks are control flow; asm and metadata are not data */
          } else {
            src = get_const(&b, v);
            if (src < 0) goto oom;
            src = (int32_t)TAG(K_CONST, src);
          }
          if (add_edge(&b, (uint32_t)src, TAG(K_INST, node), FLOW_DATA, k)) goto oom;
        }
      }
    }
    PUSH(b.fn_exit_count, int32_t, (int32_t)(b.exits.n - AT(b.fn_exit_start, int32_t, fn)));
  }

  /* Call edges: the root calls every function; then every direct call site. */
  for (int32_t f = 0; f < fn; ++f)
    if (add_call_site(&b, 0, f)) goto oom;
  for (size_t c = 0; c < b.call_node.n; ++c) {
    int32_t callee = pm_get(&b.funcs, AT(b.call_callee, LLVMValueRef, c));
    if (callee >= 0 && add_call_site(&b, AT(b.call_node, int32_t, c), callee)) goto oom;
  }
  g = finish(&b);
  if (g) g->num_functions = fn;
oom:
  free(first_nodes.data);
  free(entry_blocks.data);
  builder_free(&b);
  return g;
}
