/* optgym-builtin: Generate a maze on a grid with a randomized depth-first carve, then solve it with breadth-first search using a ring-buffer queue, reconstruct the path and compare with a bidirectional BFS. Style: loop-heavy, pointer-heavy, bit-twiddling */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CW 41 /* cells per row (odd so walls sit on even coordinates) */
#define CH 31
#define WALL 1u
#define SEEN_A 2u
#define SEEN_B 4u

static uint8_t grid[CH][CW];
static int16_t parent_a[CH * CW], parent_b[CH * CW];
static const int DX[4] = {1, 0, -1, 0};
static const int DY[4] = {0, 1, 0, -1};

static uint32_t rs = 0xBEEFu;
static uint32_t rnd(void)
{
    rs ^= rs << 13;
    rs ^= rs >> 17;
    rs ^= rs << 5;
    return rs;
}

static int idx(int x, int y) { return y * CW + x; }
static int in_bounds(int x, int y) { return x > 0 && y > 0 && x < CW - 1 && y < CH - 1; }

static void carve_maze(void)
{
    memset(grid, WALL, sizeof grid);
    int stack[CH * CW];
    int sp = 0;
    grid[1][1] = 0;
    stack[sp++] = idx(1, 1);
    while (sp > 0) {
        int cur = stack[sp - 1];
        int x = cur % CW, y = cur / CW;
        int dirs[4], nd = 0;
        for (int d = 0; d < 4; ++d) {
            int nx = x + 2 * DX[d], ny = y + 2 * DY[d];
            if (in_bounds(nx, ny) && grid[ny][nx] == WALL) dirs[nd++] = d;
        }
        if (nd == 0) {
            sp--;
            continue;
        }
        int d = dirs[rnd() % (uint32_t)nd];
        grid[y + DY[d]][x + DX[d]] = 0;
        grid[y + 2 * DY[d]][x + 2 * DX[d]] = 0;
        stack[sp++] = idx(x + 2 * DX[d], y + 2 * DY[d]);
    }
    /* knock out a few extra walls so there are loops and several shortest paths */
    for (int k = 0; k < 60; ++k) {
        int x = 1 + (int)(rnd() % (CW - 2)), y = 1 + (int)(rnd() % (CH - 2));
        if ((x ^ y) & 1) grid[y][x] = 0;
    }
}

typedef struct {
    int buf[CH * CW];
    int head, tail, count;
} Queue;

static void q_push(Queue *q, int v)
{
    q->buf[q->tail] = v;
    q->tail = (q->tail + 1) % (CH * CW);
    q->count++;
}

static int q_pop(Queue *q)
{
    int v = q->buf[q->head];
    q->head = (q->head + 1) % (CH * CW);
    q->count--;
    return v;
}

static int bfs(int start, int goal, int *visited)
{
    static Queue q;
    q.head = q.tail = q.count = 0;
    for (int y = 0; y < CH; ++y)
        for (int x = 0; x < CW; ++x) grid[y][x] &= (uint8_t)~(SEEN_A | SEEN_B);
    grid[start / CW][start % CW] |= SEEN_A;
    parent_a[start] = -1;
    q_push(&q, start);
    *visited = 0;
    while (q.count) {
        int cur = q_pop(&q);
        (*visited)++;
        if (cur == goal) break;
        int x = cur % CW, y = cur / CW;
        for (int d = 0; d < 4; ++d) {
            int nx = x + DX[d], ny = y + DY[d];
            if (grid[ny][nx] & (WALL | SEEN_A)) continue;
            grid[ny][nx] |= SEEN_A;
            parent_a[idx(nx, ny)] = (int16_t)cur;
            q_push(&q, idx(nx, ny));
        }
    }
    if (!(grid[goal / CW][goal % CW] & SEEN_A)) return -1;
    int len = 0;
    for (int v = goal; v != start; v = parent_a[v]) len++;
    return len;
}

/* expand one BFS layer from queue q marking `mine`; returns meeting cell or -1 */
static int expand_layer(Queue *q, uint8_t mine, uint8_t other, int16_t *parent, int *visited)
{
    int n = q->count;
    while (n--) {
        int cur = q_pop(q);
        (*visited)++;
        int x = cur % CW, y = cur / CW;
        for (int d = 0; d < 4; ++d) {
            int nx = x + DX[d], ny = y + DY[d];
            uint8_t c = grid[ny][nx];
            if (c & (WALL | mine)) continue;
            grid[ny][nx] |= mine;
            parent[idx(nx, ny)] = (int16_t)cur;
            if (c & other) return idx(nx, ny);
            q_push(q, idx(nx, ny));
        }
    }
    return -1;
}

static int bidir_bfs(int start, int goal, int *visited)
{
    static Queue qa, qb;
    qa.head = qa.tail = qa.count = 0;
    qb.head = qb.tail = qb.count = 0;
    for (int y = 0; y < CH; ++y)
        for (int x = 0; x < CW; ++x) grid[y][x] &= (uint8_t)~(SEEN_A | SEEN_B);
    *visited = 0;
    if (start == goal) return 0;
    grid[start / CW][start % CW] |= SEEN_A;
    grid[goal / CW][goal % CW] |= SEEN_B;
    parent_a[start] = -1;
    parent_b[goal] = -1;
    q_push(&qa, start);
    q_push(&qb, goal);
    while (qa.count && qb.count) {
        int meet;
        if (qa.count <= qb.count) meet = expand_layer(&qa, SEEN_A, SEEN_B, parent_a, visited);
        else meet = expand_layer(&qb, SEEN_B, SEEN_A, parent_b, visited);
        if (meet >= 0) {
            int len = 0;
            for (int v = meet; v != start; v = parent_a[v]) len++;
            for (int v = meet; v != goal; v = parent_b[v]) len++;
            return len;
        }
    }
    return -1;
}

int main(void)
{
    uint32_t acc = 0;
    for (int maze = 0; maze < 3; ++maze) {
        carve_maze();
        int open = 0;
        for (int y = 0; y < CH; ++y)
            for (int x = 0; x < CW; ++x) open += !(grid[y][x] & WALL);
        static const int targets[4][2] = {{CW - 2, CH - 2}, {CW - 2, 1}, {1, CH - 2}, {CW / 2 | 1, CH / 2 | 1}};
        printf("maze %d: open=%d\n", maze, open);
        for (int t = 0; t < 4; ++t) {
            int goal = idx(targets[t][0], targets[t][1]);
            int v1, v2;
            int d1 = bfs(idx(1, 1), goal, &v1);
            int d2 = bidir_bfs(idx(1, 1), goal, &v2);
            printf("  to (%d,%d): bfs=%d visited=%d bidir=%d visited=%d\n", targets[t][0], targets[t][1], d1, v1, d2,
                   v2);
            acc = acc * 1315423911u + (uint32_t)(d1 * 65536 + v1);
        }
    }
    printf("acc=%08x\n", (unsigned)acc);
    return 0;
}
