import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * What a newcomer does: `npm start`, then the curl it prints, exactly as printed. Runs the
 * real command from the repository root, on free ports so it cannot clash with a running stack.
 */
let child: ChildProcess | undefined;
afterAll(async () => {
  if (child?.pid && child.exitCode === null) {
    // Ctrl-C reaches the whole process group (npm and the node it started), as in a terminal.
    const exited = new Promise((resolve) => child!.once('exit', resolve));
    process.kill(-child.pid, 'SIGINT');
    await exited;
  }
});

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

describe('npm start', () => {
  it('answers /health, and the printed curl creates a guest in the Minut sandbox', async () => {
    const [http, sandbox, sqs, dynamodb] = [await freePort(), await freePort(), await freePort(), await freePort()];
    child = spawn('npm', ['start', '--', '--in-memory'], {
      env: { ...process.env, GUEST_SYNC_HTTP_PORT: String(http), GUEST_SYNC_SANDBOX_PORT: String(sandbox), GUEST_SYNC_SQS_PORT: String(sqs), GUEST_SYNC_DYNAMODB_PORT: String(dynamodb) },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const deadline = Date.now() + 60_000;
    while (!/Stop with Ctrl-C/.test(output)) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`npm start did not come up:\n${output}`);
      await new Promise((r) => setTimeout(r, 200));
    }

    const health = await fetch(`http://127.0.0.1:${http}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok' });

    const curl = output.split('\n').map((line) => line.trim()).find((line) => line.startsWith('curl -i -X POST'));
    expect(curl).toBeDefined();
    const sent = spawnSync('bash', ['-c', curl!], { encoding: 'utf8' });
    expect(sent.stdout).toMatch(/^HTTP\/1\.1 202/);

    let guests: { name: string; checkin_time: string }[] = [];
    for (let i = 0; i < 50 && guests.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 200));
      guests = ((await (await fetch(`http://127.0.0.1:${sandbox}/_sandbox/minut/guests`)).json()) as { guests: typeof guests }).guests;
    }
    expect(guests).toEqual([expect.objectContaining({ name: 'Maria Lindqvist', checkin_time: '2026-07-10T13:00:00.000Z' })]);

    // The signed Guesty and Smily samples it prints, run as printed; the worker fetches from the PMS sandboxes.
    const lines = output.split('\n').map((line) => line.trim());
    const guesty = lines.find((line) => line.startsWith('(ts=$(date +%s)') && line.includes('/webhooks/guesty-demo'));
    const smily = lines.find((line) => line.startsWith('curl -i -X POST') && line.includes('/webhooks/smily-demo'));
    expect(guesty).toBeDefined();
    expect(smily).toBeDefined();
    expect(spawnSync('bash', ['-c', guesty!], { encoding: 'utf8' }).stdout).toMatch(/^HTTP\/1\.1 202/);
    expect(spawnSync('bash', ['-c', smily!], { encoding: 'utf8' }).stdout).toMatch(/^HTTP\/1\.1 202/);
    const homeGuests = async (home: string) => ((await (await fetch(`http://127.0.0.1:${sandbox}/_sandbox/minut/guests?home_id=${home}`)).json()) as { guests: typeof guests }).guests;
    let city: typeof guests = [];
    let seaside: typeof guests = [];
    for (let i = 0; i < 50 && (city.length === 0 || seaside.length < 2); i++) {
      await new Promise((r) => setTimeout(r, 200));
      [city, seaside] = [await homeGuests('home_demo_city'), await homeGuests('home_demo_seaside')];
    }
    expect(city).toEqual([expect.objectContaining({ name: 'Maria Lindqvist', checkin_time: '2026-07-10T13:00:00.000Z' })]);
    expect(seaside).toContainEqual(expect.objectContaining({ name: 'Maria Lindqvist', checkin_time: '2026-07-10T14:00:00.000Z' }));

    // Lodgify, Hospitable and Smoobu samples as printed: each a 202, and the guest reaches every target.
    for (const connection of ['lodgify-demo', 'hospitable-demo', 'smoobu-demo']) {
      const line = lines.find((l) => l.startsWith('curl -i -X POST') && l.includes(`/webhooks/${connection}`));
      expect(line, connection).toBeDefined();
      expect(spawnSync('bash', ['-c', line!], { encoding: 'utf8' }).stdout).toMatch(/^HTTP\/1\.1 202/);
    }
    type Booking = { channel_id: string; from: string; to: string };
    let kasify: Booking[] = [];
    let demoHomes: (typeof guests)[] = [];
    for (let i = 0; i < 150 && (kasify.length < 4 || demoHomes.length === 0 || demoHomes.some((home) => home.length === 0)); i++) {
      await new Promise((r) => setTimeout(r, 200));
      kasify = ((await (await fetch(`http://127.0.0.1:${sandbox}/_sandbox/kasify/bookings`)).json()) as { bookings: Booking[] }).bookings;
      demoHomes = await Promise.all(['home_demo_lodgify', 'home_demo_hospitable', 'home_demo_smoobu'].map(homeGuests));
    }
    for (const key of ['lodgify-demo:5512034', 'hospitable-demo:4f1c2d3e-5a6b-4c7d-8e9f-0a1b2c3d4e5f', 'smoobu-demo:119719486']) {
      expect(kasify).toContainEqual(expect.objectContaining({ channel_id: key, from: '2026-07-10', to: '2026-07-14' }));
    }
    for (const home of demoHomes) expect(home).toEqual([expect.objectContaining({ name: 'Maria Lindqvist', checkin_time: '2026-07-10T13:00:00.000Z' })]);

    // The apaleo, Mews and Cloudbeds samples as printed: each a 202, and the guest (read from each API sandbox) in Minut.
    for (const connection of ['apaleo-demo', 'mews-demo', 'cloudbeds-demo']) {
      const line = lines.find((l) => l.startsWith('curl -i -X POST') && l.includes(`/webhooks/${connection}/`));
      expect(line, connection).toBeDefined();
      expect(spawnSync('bash', ['-c', line!], { encoding: 'utf8' }).stdout).toMatch(/^HTTP\/1\.1 202/);
    }
    let hotelHomes: (typeof guests)[] = [];
    for (let i = 0; i < 150 && (hotelHomes.length === 0 || hotelHomes.some((home) => home.length === 0)); i++) {
      await new Promise((r) => setTimeout(r, 200));
      hotelHomes = await Promise.all(['home_demo_apaleo', 'home_demo_mews', 'home_demo_cloudbeds'].map(homeGuests));
    }
    expect(hotelHomes).toEqual([
      [expect.objectContaining({ name: 'Maria Lindqvist', checkin_time: '2026-07-10T13:00:00.000Z' })],
      [expect.objectContaining({ name: 'Maria Lindqvist', checkin_time: '2026-07-10T13:00:00.000Z' })],
      [expect.objectContaining({ name: 'Maria Lindqvist', checkin_time: '2026-07-10T19:00:00.000Z' })],
    ]);

    // The `npm run send` line it prints works as printed, from a new shell, with these ports.
    const send = lines.find((l) => l.startsWith('npm run send --'));
    expect(send).toContain(`http://127.0.0.1:${http}`);
    const printed = spawnSync('bash', ['-c', send!], { encoding: 'utf8', env: { PATH: process.env.PATH, HOME: process.env.HOME } });
    expect(printed.stdout, printed.stderr).toMatch(/202 /);

    // `npm run send` signs for Guesty (svix-*) and Smily too.
    for (const [connection, file] of [
      ['guesty-demo', 'examples/guesty-reservation.new.json'],
      ['smily-demo', 'examples/smily-booking_created.json'],
      ['lodgify-demo', 'examples/lodgify-booking_new_status_booked.json'],
      ['hospitable-demo', 'examples/hospitable-reservation.created.json'],
      ['smoobu-demo', 'examples/smoobu-newReservation.json'],
    ]) {
      const sent = spawnSync('npm', ['run', '--silent', 'send', '--', connection!, file!, `http://127.0.0.1:${http}`], { encoding: 'utf8' });
      expect(sent.stdout, sent.stderr).toMatch(/^202 /);
    }
  });
});
