/* A physics run through Munk2D (Chipmunk2D's API): boxes and balls dropped onto a ramp and a
 * floor, a pendulum on a pin joint, a spring, queries and a body removed mid-run. It prints
 * positions, velocities and query results as it goes: linked against each build of the
 * library, it must print what the -O0 build prints. */
#include <stdio.h>
#include <chipmunk/chipmunk.h>

static void report(const char *what, cpBody *body) {
  cpVect p = cpBodyGetPosition(body), v = cpBodyGetVelocity(body);
  printf("%s p=(%.6f, %.6f) v=(%.6f, %.6f) a=%.6f\n", what, p.x, p.y, v.x, v.y,
         cpBodyGetAngle(body));
}

static void count_shape(cpShape *shape, void *data) {
  (void)shape;
  ++*(int *)data;
}

int main(void) {
  cpSpace *space = cpSpaceNew();
  cpSpaceSetIterations(space, 12);
  cpSpaceSetGravity(space, cpv(0, -100));
  cpBody *ground = cpSpaceGetStaticBody(space);
  cpShape *floor = cpSegmentShapeNew(ground, cpv(-200, 0), cpv(200, 0), 1);
  cpShapeSetFriction(floor, 0.9);
  cpSpaceAddShape(space, floor);
  cpShape *ramp = cpSegmentShapeNew(ground, cpv(-200, 120), cpv(0, 40), 2);
  cpShapeSetFriction(ramp, 0.4);
  cpSpaceAddShape(space, ramp);

  enum { N = 24 };
  cpBody *bodies[N];
  cpShape *shapes[N];
  for (int i = 0; i < N; i++) {
    cpFloat mass = 1 + (i % 5);
    cpBody *body;
    cpShape *shape;
    if (i % 3 == 0) {
      body = cpBodyNew(mass, cpMomentForBox(mass, 8, 6));
      shape = cpBoxShapeNew(body, 8, 6, 0.5);
    } else {
      cpFloat r = 3 + (i % 4);
      body = cpBodyNew(mass, cpMomentForCircle(mass, 0, r, cpvzero));
      shape = cpCircleShapeNew(body, r, cpvzero);
    }
    cpSpaceAddBody(space, body);
    cpBodySetPosition(body, cpv(-150 + 11 * i, 150 + 9 * (i % 7)));
    cpBodySetAngularVelocity(body, 0.1 * (i % 3));
    cpShapeSetFriction(shape, 0.6);
    cpShapeSetElasticity(shape, 0.3);
    cpSpaceAddShape(space, shape);
    bodies[i] = body;
    shapes[i] = shape;
  }

  cpBody *bob = cpSpaceAddBody(space, cpBodyNew(2, cpMomentForCircle(2, 0, 4, cpvzero)));
  cpBodySetPosition(bob, cpv(100, 150));
  cpSpaceAddShape(space, cpCircleShapeNew(bob, 4, cpvzero));
  cpSpaceAddConstraint(space, cpPinJointNew(ground, bob, cpv(60, 180), cpvzero));
  cpBody *weight = cpSpaceAddBody(space, cpBodyNew(3, cpMomentForBox(3, 6, 6)));
  cpBodySetPosition(weight, cpv(150, 120));
  cpSpaceAddShape(space, cpBoxShapeNew(weight, 6, 6, 0));
  cpSpaceAddConstraint(space, cpDampedSpringNew(ground, weight, cpv(150, 190), cpvzero, 40,
                                                30, 1.5));

  for (int step = 1; step <= 600; step++) {
    cpSpaceStep(space, 1.0 / 120.0);
    if (step == 300) {  /* take one body out mid-run */
      cpSpaceRemoveShape(space, shapes[5]);
      cpSpaceRemoveBody(space, bodies[5]);
    }
    if (step % 100 == 0) {
      printf("step %d\n", step);
      for (int i = 0; i < N; i += 5) {
        char name[16];
        snprintf(name, sizeof name, "body%d", i);
        report(name, bodies[i]);
      }
      report("bob", bob);
      report("weight", weight);
      int hits = 0;
      cpSpaceBBQuery(space, cpBBNew(-60, 0, 60, 60), CP_SHAPE_FILTER_ALL, count_shape, &hits);
      cpSegmentQueryInfo info;
      cpShape *hit = cpSpaceSegmentQueryFirst(space, cpv(-190, 200), cpv(190, -5), 0,
                                              CP_SHAPE_FILTER_ALL, &info);
      printf("bb hits %d, ray %s at (%.6f, %.6f) alpha %.6f\n", hits, hit ? "hit" : "miss",
             info.point.x, info.point.y, info.alpha);
    }
  }
  cpSpaceFree(space);
  return 0;
}
