import { StyleSheet, Text, View } from 'react-native';

import { ConnectionState } from '../live/liveClient';
import { RecorderMode } from '../recording/recorder';
import { colors } from '../theme';

const LABELS: Record<ConnectionState, string> = {
  [ConnectionState.Idle]: 'Not connected',
  [ConnectionState.Connecting]: 'Connecting…',
  [ConnectionState.Open]: 'Live',
  [ConnectionState.Reconnecting]: 'Reconnecting…',
  [ConnectionState.Closing]: 'Finishing…',
  [ConnectionState.Closed]: 'Ended',
  [ConnectionState.Failed]: 'Connection lost',
};

function tint(mode: RecorderMode, state: ConnectionState): string {
  if (mode === RecorderMode.Offline) return colors.warn;
  if (state === ConnectionState.Open) return colors.ok;
  if (state === ConnectionState.Failed) return colors.danger;
  return colors.muted;
}

/** Where the audio is going right now: live to the gateway, or to a file for later. */
export function ConnectionBadge({ mode, state }: { mode: RecorderMode; state: ConnectionState }) {
  const label = mode === RecorderMode.Offline ? 'Offline: saving to the phone' : LABELS[state];
  return (
    <View style={[styles.badge, { borderColor: tint(mode, state) }]} testID="connection-badge">
      <View style={[styles.dot, { backgroundColor: tint(mode, state) }]} />
      <Text style={{ color: tint(mode, state), fontWeight: '600' }}>{label}</Text>
    </View>
  );
}

const styles = StyleSheet.create({
  badge: {
    flexDirection: 'row',
    alignItems: 'center',
    alignSelf: 'flex-start',
    gap: 6,
    borderWidth: 1,
    borderRadius: 999,
    paddingHorizontal: 10,
    paddingVertical: 4,
    margin: 12,
  },
  dot: { width: 8, height: 8, borderRadius: 4 },
});
