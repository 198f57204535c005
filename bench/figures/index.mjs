// Every figure, in the order the runner runs them. Each is {name, about, services, env?, ownStack?,
// run(ctx) → rows}: the `services` it needs started, the `env` it needs set on them, and
// `ownStack` if that env must not be shared with the other figures.
import franking from './franking.mjs';
import getMe from './get-me.mjs';
import group from './group.mjs';
import idleStreams from './idle-streams.mjs';
import login from './login.mjs';
import media from './media.mjs';
import offline from './offline.mjs';
import oneToOne from './one-to-one.mjs';
import prekeyClaim from './prekey-claim.mjs';
import scaleOut from './scale-out.mjs';

export const FIGURES = [oneToOne, group, offline, getMe, prekeyClaim, scaleOut, idleStreams, login, media, franking];
