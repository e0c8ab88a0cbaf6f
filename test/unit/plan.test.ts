import type { EnvironmentSnapshot } from '../../contract/operation';
import { isInTargetMode, planAosSteps } from '../../contract/plan';

const normal: EnvironmentSnapshot = {
  configurationMode: 0,
  instances: [
    { id: 'aos-1', role: 'interactive', running: true, maintenanceMode: false },
    { id: 'aos-2', role: 'interactive', running: true, maintenanceMode: false },
    { id: 'aos-3', role: 'interactive', running: true, maintenanceMode: false },
    { id: 'aos-4', role: 'batch', running: true, maintenanceMode: false },
    { id: 'aos-5', role: 'batch', running: true, maintenanceMode: false },
  ],
};

const inMaintenance: EnvironmentSnapshot = {
  configurationMode: 1,
  instances: normal.instances.map((i) =>
    i.id === 'aos-1' || i.id === 'aos-4'
      ? { ...i, maintenanceMode: true }
      : { ...i, running: false, maintenanceMode: null },
  ),
};

describe('planAosSteps', () => {
  it('enable restarts one interactive and one batch AOS and stops the others', () => {
    expect(planAosSteps('enable', normal)).toEqual([
      { aosId: 'aos-1', action: 'restart' },
      { aosId: 'aos-2', action: 'stop' },
      { aosId: 'aos-3', action: 'stop' },
      { aosId: 'aos-4', action: 'restart' },
      { aosId: 'aos-5', action: 'stop' },
    ]);
  });

  it('enable keeps an AOS that runs now rather than starting a stopped one', () => {
    const partly = {
      ...normal,
      instances: normal.instances.map((i) => (i.id === 'aos-1' ? { ...i, running: false } : i)),
    };
    expect(
      planAosSteps('enable', partly)
        .filter((s) => s.action === 'restart')
        .map((s) => s.aosId),
    ).toEqual(['aos-2', 'aos-4']);
    expect(planAosSteps('enable', partly).map((s) => s.aosId)).not.toContain('aos-1');
  });

  it('disable restarts every AOS of the topology, stopped ones included', () => {
    expect(planAosSteps('disable', inMaintenance)).toEqual(
      normal.instances.map((i) => ({ aosId: i.id, action: 'restart' })),
    );
  });
});

describe('isInTargetMode', () => {
  it('knows a normal environment needs enabling but not disabling', () => {
    expect(isInTargetMode('enable', normal)).toBe(false);
    expect(isInTargetMode('disable', normal)).toBe(true);
  });

  it('knows an environment in maintenance needs disabling but not enabling', () => {
    expect(isInTargetMode('enable', inMaintenance)).toBe(true);
    expect(isInTargetMode('disable', inMaintenance)).toBe(false);
  });

  it('does not take a flipped flag without restarted AOS for done', () => {
    expect(isInTargetMode('enable', { ...normal, configurationMode: 1 })).toBe(false);
    expect(isInTargetMode('disable', { ...inMaintenance, configurationMode: 0 })).toBe(false);
  });
});
