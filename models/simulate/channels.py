"""Where each order is placed: the person's preferred channel, the order's channel and device."""

from __future__ import annotations

import numpy as np

from models.simulate.config import CHANNELS, DEVICES, SimulationConfig
from models.simulate.sampling import draw_categorical

WEB, STORE, APP, CALL_CENTRE = range(len(CHANNELS))
DESKTOP, MOBILE, TABLET, IN_STORE, PHONE = range(len(DEVICES))


def channel_mix(config: SimulationConfig) -> np.ndarray:
    """Groups x channels matrix of channel probabilities."""
    return np.array([group.channel_mix for group in config.groups], dtype=np.float64)


def draw_preferred_channels(
    config: SimulationConfig, group: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Each person's preferred channel, drawn from the group's channel mix."""
    return draw_categorical(channel_mix(config), group, rng)


def draw_order_channels(
    config: SimulationConfig,
    group: np.ndarray,
    preferred: np.ndarray,
    person: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """Order channels: the preferred one with probability `channel_loyalty`, else the mix."""
    mixed = draw_categorical(channel_mix(config), group[person], rng)
    loyal = rng.random(person.shape[0]) < config.channel_loyalty
    return np.where(loyal, preferred[person], mixed).astype(np.int8)


def draw_devices(
    config: SimulationConfig, channel: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Order devices: web by the web device mix, app mobile or tablet, store and phone fixed."""
    web_device = rng.choice(
        (DESKTOP, MOBILE, TABLET), size=channel.shape[0], p=config.web_device_mix
    )
    app_device = np.where(rng.random(channel.shape[0]) < config.app_tablet_share, TABLET, MOBILE)
    device = np.select(
        [channel == WEB, channel == APP, channel == STORE],
        [web_device, app_device, IN_STORE],
        default=PHONE,
    )
    return device.astype(np.int8)
