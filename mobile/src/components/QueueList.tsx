import { Pressable, StyleSheet, Text, View } from 'react-native';

import { type QueueItem, QueueItemState } from '../offline/recordingQueue';
import { colors, common } from '../theme';

const STATE_LABELS: Record<QueueItemState, string> = {
  [QueueItemState.Recording]: 'Recording',
  [QueueItemState.Pending]: 'Waiting for connection',
  [QueueItemState.Uploading]: 'Uploading…',
  [QueueItemState.RetryWaiting]: 'Upload failed, will retry',
  [QueueItemState.Rejected]: 'Upload refused',
  [QueueItemState.Uploaded]: 'Uploaded',
};

/** Offline recordings and where each one is on its way to the gateway. */
export function QueueList({
  items,
  onRetry,
  onRemove,
}: {
  items: QueueItem[];
  onRetry: (id: string) => void;
  onRemove: (id: string) => void;
}) {
  if (items.length === 0) return null;
  return (
    <View>
      <Text style={[common.title, { marginHorizontal: 12 }]}>Saved recordings</Text>
      {items.map((item) => (
        <View key={item.id} style={common.card} testID={`queue-item-${item.id}`}>
          <Text style={common.body}>{item.title}</Text>
          <Text style={common.muted}>
            {STATE_LABELS[item.state]}
            {item.durationS > 0 ? ` · ${item.durationS.toFixed(1)} s` : ''}
          </Text>
          {item.lastError ? <Text style={styles.error}>{item.lastError}</Text> : null}
          {item.state === QueueItemState.Rejected || item.state === QueueItemState.RetryWaiting ? (
            <Pressable accessibilityRole="button" onPress={() => onRetry(item.id)}>
              <Text style={styles.link}>Retry now</Text>
            </Pressable>
          ) : null}
          {item.state === QueueItemState.Uploaded || item.state === QueueItemState.Rejected ? (
            <Pressable accessibilityRole="button" accessibilityLabel={`Remove ${item.title}`} onPress={() => onRemove(item.id)}>
              <Text style={styles.link}>Remove</Text>
            </Pressable>
          ) : null}
        </View>
      ))}
    </View>
  );
}

const styles = StyleSheet.create({
  error: { fontSize: 12, color: colors.danger },
  link: { color: colors.accent, fontWeight: '600', marginTop: 4 },
});
