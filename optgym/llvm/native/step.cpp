/* What an environment step does in the worker, in C++ over LLVM's own classes: run a pass
 * pipeline (and learn whether any pass reported a change), then, only if one did, walk the
 * module once for a fingerprint of its structure (did it really change?) and its counts (the
 * IrInstructionCount reward).
 *
 * optgym_run_passes is LLVMRunPasses (llvm/lib/Passes/PassBuilderBindings.cpp, LLVM 19: the same
 * pass builder, analysis managers, standard instrumentations and pipeline parser, so the same
 * result) with one more instrumentation callback: whether every pass that ran preserved all
 * analyses, which is how a pass tells the pass manager it changed nothing. Random actions change
 * nothing on about three steps in four, and those steps then need no walk at all.
 *
 * The walk through the LLVM-C API (one exported call per instruction and per operand) cost
 * about a third of a typical pass's time on a 3,000-instruction module; here the iterators and
 * operand reads are inlined. C callers see plain C functions.
 */
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include <llvm-c/Core.h>
#include <llvm-c/TargetMachine.h>
#include <llvm/IR/Function.h>
#include <llvm/IR/GlobalVariable.h>
#include <llvm/IR/Instruction.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/PassInstrumentation.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Passes/StandardInstrumentations.h>
#include <llvm/Support/Error.h>
#include <llvm/Target/TargetMachine.h>

using namespace llvm;

namespace {
inline uint64_t mix(uint64_t h, uint64_t v) {
  h ^= v + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
  return h * 0xBF58476D1CE4E5B9ull;
}
inline uint64_t ptr(const void *p) { return (uint64_t)(uintptr_t)p; }
}  // namespace

/* A fingerprint of the module's current structure, for telling whether a pass changed it, and
 * the module's counts (instructions, basic blocks, defined functions).
 *
 * It hashes object identities (LLVM uniques constants and types, and a pass that rewrites an
 * instruction creates a new one, or changes its operands) plus opcodes, linkage and attribute
 * counts. It is only comparable before/after on the same in-memory module; it is not a content
 * hash (use the bitcode digest for that). Metadata-only edits are not seen.
 * out: [fingerprint (as a signed 64-bit value), instructions, blocks, defined functions]. */
extern "C" int optgym_step_stats(LLVMModuleRef ref, int64_t *out) {
  Module *mod = unwrap(ref);
  uint64_t h = 0x12345678ull;
  int64_t insts = 0, blocks = 0, funcs = 0;
  for (GlobalVariable &g : mod->globals()) {
    h = mix(h, ptr(&g));
    h = mix(h, (uint64_t)g.getLinkage());
    h = mix(h, ptr(g.hasInitializer() ? g.getInitializer() : nullptr));
    h = mix(h, (uint64_t)g.isConstant());
  }
  for (Function &f : *mod) {
    h = mix(h, ptr(&f));
    h = mix(h, (uint64_t)f.getLinkage());
    AttributeList attrs = f.getAttributes();
    h = mix(h, (uint64_t)attrs.getFnAttrs().getNumAttributes());
    h = mix(h, (uint64_t)attrs.getRetAttrs().getNumAttributes());
    for (unsigned p = 0, n = f.arg_size(); p < n; ++p)
      h = mix(h, (uint64_t)attrs.getParamAttrs(p).getNumAttributes());
    funcs += !f.empty();
    for (BasicBlock &bb : f) {
      ++blocks;
      h = mix(h, ptr(&bb));
      for (Instruction &i : bb) {
        ++insts;
        h = mix(h, ptr(&i));
        h = mix(h, (uint64_t)i.getOpcode());
        for (const Use &op : i.operands()) h = mix(h, ptr(op.get()));
      }
    }
  }
  out[0] = (int64_t)h;
  out[1] = insts;
  out[2] = blocks;
  out[3] = funcs;
  return 0;
}

/* The fingerprint alone (see optgym_step_stats). */
extern "C" uint64_t optgym_fingerprint(LLVMModuleRef ref) {
  int64_t out[4];
  optgym_step_stats(ref, out);
  return (uint64_t)out[0];
}

/* Run a new-pass-manager pipeline on a module, as LLVMRunPasses does with default pass-builder
 * options (verify_each as LLVMPassBuilderOptionsSetVerifyEach). *reported is set to 1 when some
 * pass did not preserve all analyses (it says it changed the module), else 0. Returns NULL, or
 * the pipeline parser's error message (free it with optgym_free_message). */
extern "C" char *optgym_run_passes(LLVMModuleRef ref, const char *passes, LLVMTargetMachineRef tm,
                                   int verify_each, int *reported) {
  Module *mod = unwrap(ref);
  bool changed = false;
  PassInstrumentationCallbacks pic;
  pic.registerAfterPassCallback([&changed](StringRef, Any, const PreservedAnalyses &pa) {
    if (!pa.areAllPreserved()) changed = true;
  });
  pic.registerAfterPassInvalidatedCallback(
      [&changed](StringRef, const PreservedAnalyses &) { changed = true; });
  // LLVM-C's target machine handle is the TargetMachine itself (TargetMachineC.cpp's unwrap).
  PassBuilder pb(reinterpret_cast<TargetMachine *>(tm), PipelineTuningOptions(), std::nullopt,
                 &pic);
  LoopAnalysisManager lam;
  FunctionAnalysisManager fam;
  CGSCCAnalysisManager cgam;
  ModuleAnalysisManager mam;
  pb.registerLoopAnalyses(lam);
  pb.registerFunctionAnalyses(fam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerModuleAnalyses(mam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);
  StandardInstrumentations si(mod->getContext(), /*DebugLogging=*/false, verify_each != 0);
  si.registerCallbacks(pic, &mam);
  ModulePassManager mpm;
  if (verify_each) mpm.addPass(VerifierPass());
  if (Error err = pb.parsePassPipeline(mpm, passes)) {
    std::string text = toString(std::move(err));
    *reported = 0;
    return strdup(text.c_str());
  }
  mpm.run(*mod, mam);
  *reported = changed ? 1 : 0;
  return nullptr;
}

extern "C" void optgym_free_message(char *message) { free(message); }
