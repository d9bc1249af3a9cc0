/* optgym-builtin: A switch-dispatched stack virtual machine with locals, calls, conditional jumps and a bounded heap, running bytecode emitted by a small in-program assembler for several generated programs. Style: switch-heavy, pointer-heavy, many-small-functions */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef enum {
    OP_HALT, OP_PUSH, OP_POP, OP_DUP, OP_SWAP, OP_OVER,
    OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_MOD, OP_NEG,
    OP_AND, OP_OR, OP_XOR, OP_SHL, OP_SHR,
    OP_EQ, OP_LT, OP_GT, OP_NOT,
    OP_JMP, OP_JZ, OP_JNZ,
    OP_LOAD, OP_STORE, OP_HLOAD, OP_HSTORE,
    OP_CALL, OP_RET, OP_PRINT, OP_COUNT
} Op;

static const char *const OP_NAMES[OP_COUNT] = {
    "halt", "push", "pop", "dup", "swap", "over", "add", "sub", "mul", "div", "mod", "neg", "and", "or",
    "xor", "shl", "shr", "eq", "lt", "gt", "not", "jmp", "jz", "jnz", "load", "store", "hload", "hstore",
    "call", "ret", "print"};

#define STACK_MAX 256
#define FRAMES_MAX 64
#define HEAP_MAX 1024
#define LOCALS 8

typedef struct {
    int32_t code[2048];
    int len;
} Program;

typedef struct {
    int ret_pc;
    int32_t locals[LOCALS];
} Frame;

typedef struct {
    int32_t stack[STACK_MAX];
    int sp;
    Frame frames[FRAMES_MAX];
    int fp;
    int32_t heap[HEAP_MAX];
    uint32_t out_hash;
    int printed;
    unsigned long steps;
    unsigned long op_counts[OP_COUNT];
    int error;
} VM;

/* assembler helpers */
static void emit(Program *p, int32_t v) { p->code[p->len++] = v; }
static void op0(Program *p, Op o) { emit(p, o); }
static void op1(Program *p, Op o, int32_t a)
{
    emit(p, o);
    emit(p, a);
}
static int here(const Program *p) { return p->len; }
static int jump_fwd(Program *p, Op o)
{
    op1(p, o, 0);
    return p->len - 1;
}
static void patch(Program *p, int at) { p->code[at] = p->len; }

static void push(VM *vm, int32_t v)
{
    if (vm->sp >= STACK_MAX) {
        vm->error = 1;
        return;
    }
    vm->stack[vm->sp++] = v;
}

static int32_t pop(VM *vm)
{
    if (vm->sp <= 0) {
        vm->error = 2;
        return 0;
    }
    return vm->stack[--vm->sp];
}

static int32_t wrap_add(int32_t a, int32_t b) { return (int32_t)((uint32_t)a + (uint32_t)b); }
static int32_t wrap_sub(int32_t a, int32_t b) { return (int32_t)((uint32_t)a - (uint32_t)b); }
static int32_t wrap_mul(int32_t a, int32_t b) { return (int32_t)((uint32_t)a * (uint32_t)b); }

static void run(VM *vm, const Program *p, unsigned long max_steps)
{
    int pc = 0;
    vm->fp = 0;
    memset(&vm->frames[0], 0, sizeof(Frame));
    while (!vm->error && vm->steps < max_steps) {
        if (pc < 0 || pc >= p->len) {
            vm->error = 3;
            break;
        }
        Op op = (Op)p->code[pc++];
        vm->steps++;
        vm->op_counts[op]++;
        int32_t a, b;
        Frame *f = &vm->frames[vm->fp];
        switch (op) {
        case OP_HALT: return;
        case OP_PUSH: push(vm, p->code[pc++]); break;
        case OP_POP: pop(vm); break;
        case OP_DUP: a = pop(vm); push(vm, a); push(vm, a); break;
        case OP_SWAP: a = pop(vm); b = pop(vm); push(vm, a); push(vm, b); break;
        case OP_OVER: a = pop(vm); b = pop(vm); push(vm, b); push(vm, a); push(vm, b); break;
        case OP_ADD: b = pop(vm); a = pop(vm); push(vm, wrap_add(a, b)); break;
        case OP_SUB: b = pop(vm); a = pop(vm); push(vm, wrap_sub(a, b)); break;
        case OP_MUL: b = pop(vm); a = pop(vm); push(vm, wrap_mul(a, b)); break;
        case OP_DIV:
        case OP_MOD:
            b = pop(vm);
            a = pop(vm);
            if (b == 0 || (a == INT32_MIN && b == -1)) {
                vm->error = 4;
                break;
            }
            push(vm, op == OP_DIV ? a / b : a % b);
            break;
        case OP_NEG: a = pop(vm); push(vm, wrap_sub(0, a)); break;
        case OP_AND: b = pop(vm); a = pop(vm); push(vm, a & b); break;
        case OP_OR: b = pop(vm); a = pop(vm); push(vm, a | b); break;
        case OP_XOR: b = pop(vm); a = pop(vm); push(vm, a ^ b); break;
        case OP_SHL: b = pop(vm); a = pop(vm); push(vm, (int32_t)((uint32_t)a << (b & 31))); break;
        case OP_SHR: b = pop(vm); a = pop(vm); push(vm, (int32_t)((uint32_t)a >> (b & 31))); break;
        case OP_EQ: b = pop(vm); a = pop(vm); push(vm, a == b); break;
        case OP_LT: b = pop(vm); a = pop(vm); push(vm, a < b); break;
        case OP_GT: b = pop(vm); a = pop(vm); push(vm, a > b); break;
        case OP_NOT: a = pop(vm); push(vm, !a); break;
        case OP_JMP: pc = p->code[pc]; break;
        case OP_JZ: a = pop(vm); pc = a ? pc + 1 : p->code[pc]; break;
        case OP_JNZ: a = pop(vm); pc = a ? p->code[pc] : pc + 1; break;
        case OP_LOAD: push(vm, f->locals[p->code[pc++] & (LOCALS - 1)]); break;
        case OP_STORE: f->locals[p->code[pc++] & (LOCALS - 1)] = pop(vm); break;
        case OP_HLOAD: a = pop(vm); push(vm, vm->heap[(uint32_t)a % HEAP_MAX]); break;
        case OP_HSTORE: b = pop(vm); a = pop(vm); vm->heap[(uint32_t)a % HEAP_MAX] = b; break;
        case OP_CALL: {
            /* operand: target; the callee receives one argument in local 0 */
            if (vm->fp + 1 >= FRAMES_MAX) {
                vm->error = 5;
                break;
            }
            Frame *nf = &vm->frames[++vm->fp];
            memset(nf, 0, sizeof *nf);
            nf->ret_pc = pc + 1;
            nf->locals[0] = pop(vm);
            pc = p->code[pc];
            break;
        }
        case OP_RET:
            if (vm->fp == 0) {
                vm->error = 6;
                break;
            }
            pc = vm->frames[vm->fp--].ret_pc;
            break;
        case OP_PRINT:
            a = pop(vm);
            vm->out_hash = (vm->out_hash ^ (uint32_t)a) * 16777619u;
            vm->printed++;
            break;
        default: vm->error = 7; break;
        }
    }
}

/* program 1: iterative sum of i*i mod 7 for i < n, with a loop */
static void asm_loop(Program *p, int n)
{
    op1(p, OP_PUSH, 0); op1(p, OP_STORE, 1);       /* acc = 0 */
    op1(p, OP_PUSH, 0); op1(p, OP_STORE, 2);       /* i = 0 */
    int top = here(p);
    op1(p, OP_LOAD, 2); op1(p, OP_PUSH, n); op0(p, OP_LT);
    int exit = jump_fwd(p, OP_JZ);
    op1(p, OP_LOAD, 2); op0(p, OP_DUP); op0(p, OP_MUL); op1(p, OP_PUSH, 7); op0(p, OP_MOD);
    op1(p, OP_LOAD, 1); op0(p, OP_ADD); op1(p, OP_STORE, 1);
    op1(p, OP_LOAD, 2); op1(p, OP_PUSH, 1); op0(p, OP_ADD); op1(p, OP_STORE, 2);
    op1(p, OP_JMP, top);
    patch(p, exit);
    op1(p, OP_LOAD, 1); op0(p, OP_PRINT); op0(p, OP_HALT);
}

/* program 2: recursive fibonacci via CALL/RET, printing fib(k) for several k */
static void asm_fib(Program *p, int upto)
{
    int call_sites[32], nsites = 0;
    for (int k = 0; k <= upto; k += 3) {
        op1(p, OP_PUSH, k);
        call_sites[nsites++] = jump_fwd(p, OP_CALL);
        op0(p, OP_PRINT);
    }
    op0(p, OP_HALT);
    int fib = here(p);
    for (int i = 0; i < nsites; ++i) p->code[call_sites[i]] = fib;
    op1(p, OP_LOAD, 0); op1(p, OP_PUSH, 2); op0(p, OP_LT);
    int rec = jump_fwd(p, OP_JZ);
    op1(p, OP_LOAD, 0); op0(p, OP_RET);
    patch(p, rec);
    op1(p, OP_LOAD, 0); op1(p, OP_PUSH, 1); op0(p, OP_SUB); op1(p, OP_CALL, fib);
    op1(p, OP_LOAD, 0); op1(p, OP_PUSH, 2); op0(p, OP_SUB); op1(p, OP_CALL, fib);
    op0(p, OP_ADD); op0(p, OP_RET);
}

/* program 3: sieve of Eratosthenes in the VM heap, printing a checksum of primes */
static void asm_sieve(Program *p, int n)
{
    op1(p, OP_PUSH, 2); op1(p, OP_STORE, 1);           /* i = 2 */
    int outer = here(p);
    op1(p, OP_LOAD, 1); op0(p, OP_DUP); op0(p, OP_MUL); op1(p, OP_PUSH, n); op0(p, OP_GT);
    int done = jump_fwd(p, OP_JNZ);
    op1(p, OP_LOAD, 1); op0(p, OP_HLOAD);
    int skip = jump_fwd(p, OP_JNZ);                    /* composite: skip */
    op1(p, OP_LOAD, 1); op0(p, OP_DUP); op0(p, OP_MUL); op1(p, OP_STORE, 2); /* j = i*i */
    int inner = here(p);
    op1(p, OP_LOAD, 2); op1(p, OP_PUSH, n); op0(p, OP_GT);
    int inner_done = jump_fwd(p, OP_JNZ);
    op1(p, OP_LOAD, 2); op1(p, OP_PUSH, 1); op0(p, OP_HSTORE);
    op1(p, OP_LOAD, 2); op1(p, OP_LOAD, 1); op0(p, OP_ADD); op1(p, OP_STORE, 2);
    op1(p, OP_JMP, inner);
    patch(p, inner_done);
    patch(p, skip);
    op1(p, OP_LOAD, 1); op1(p, OP_PUSH, 1); op0(p, OP_ADD); op1(p, OP_STORE, 1);
    op1(p, OP_JMP, outer);
    patch(p, done);
    /* sum and xor-shift hash of primes */
    op1(p, OP_PUSH, 0); op1(p, OP_STORE, 3); op1(p, OP_PUSH, 2); op1(p, OP_STORE, 1);
    int scan = here(p);
    op1(p, OP_LOAD, 1); op1(p, OP_PUSH, n); op0(p, OP_GT);
    int end = jump_fwd(p, OP_JNZ);
    op1(p, OP_LOAD, 1); op0(p, OP_HLOAD);
    int comp = jump_fwd(p, OP_JNZ);
    op1(p, OP_LOAD, 3); op1(p, OP_PUSH, 5); op0(p, OP_SHL); op1(p, OP_LOAD, 1); op0(p, OP_XOR);
    op1(p, OP_LOAD, 3); op1(p, OP_PUSH, 27); op0(p, OP_SHR); op0(p, OP_XOR); op1(p, OP_STORE, 3);
    patch(p, comp);
    op1(p, OP_LOAD, 1); op1(p, OP_PUSH, 1); op0(p, OP_ADD); op1(p, OP_STORE, 1);
    op1(p, OP_JMP, scan);
    patch(p, end);
    op1(p, OP_LOAD, 3); op0(p, OP_PRINT); op0(p, OP_HALT);
}

/* program 4: random straight-line arithmetic from a generator, exercising every ALU op */
static void asm_random(Program *p, uint32_t seed, int len)
{
    static const Op alu[] = {OP_ADD, OP_SUB, OP_MUL, OP_AND, OP_OR, OP_XOR, OP_SHL, OP_SHR, OP_EQ, OP_LT,
                             OP_GT, OP_SWAP, OP_OVER, OP_NEG, OP_NOT, OP_DUP, OP_MOD};
    int depth = 0;
    for (int i = 0; i < len; ++i) {
        seed = seed * 1103515245u + 12345u;
        uint32_t r = seed >> 8;
        if (depth < 2 || r % 4u == 0) {
            op1(p, OP_PUSH, (int32_t)(r % 2001u) - 1000);
            depth++;
            continue;
        }
        if (r % 9u == 0) {
            op0(p, OP_PRINT);
            depth--;
            continue;
        }
        Op o = alu[r % 17u];
        if (o == OP_MOD) {
            op1(p, OP_PUSH, 1 + (int32_t)(r % 97u));
            depth++;
        }
        op0(p, o);
        if (o == OP_DUP || o == OP_OVER) depth++;
        else if (o != OP_NEG && o != OP_NOT && o != OP_SWAP) depth--;
        if (depth > 20) {
            op0(p, OP_PRINT);
            depth--;
        }
    }
    while (depth-- > 0) op0(p, OP_PRINT);
    op0(p, OP_HALT);
}

int main(void)
{
    static Program prog;
    static VM vm;
    uint32_t total = 0;
    for (int which = 0; which < 5; ++which) {
        memset(&prog, 0, sizeof prog);
        memset(&vm, 0, sizeof vm);
        vm.out_hash = 2166136261u;
        switch (which) {
        case 0: asm_loop(&prog, 3000); break;
        case 1: asm_fib(&prog, 15); break;
        case 2: asm_sieve(&prog, 1000); break;
        case 3: asm_random(&prog, 17u, 600); break;
        default: asm_random(&prog, 4242u, 1200); break;
        }
        run(&vm, &prog, 2000000ul);
        int hot = 0;
        for (int o = 1; o < OP_COUNT; ++o)
            if (vm.op_counts[o] > vm.op_counts[hot]) hot = o;
        printf("prog %d: len=%d steps=%lu printed=%d out=%08x err=%d sp=%d hottest=%s\n", which, prog.len, vm.steps,
               vm.printed, (unsigned)vm.out_hash, vm.error, vm.sp, OP_NAMES[hot]);
        total = total * 33u ^ vm.out_hash;
    }
    printf("total=%08x\n", (unsigned)total);
    return 0;
}
