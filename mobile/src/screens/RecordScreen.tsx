import { Pressable, StyleSheet, Text, View } from 'react-native';

import { ConnectionBadge } from '../components/ConnectionBadge';
import { LiveCaptions } from '../components/LiveCaptions';
import { QueueList } from '../components/QueueList';
import { useQueueItems } from '../hooks/useQueueItems';
import { useRecording } from '../hooks/useRecording';
import { RecorderMode } from '../recording/recorder';
import { useServices } from '../servicesContext';
import { colors, common } from '../theme';

export function RecordScreen() {
  const { queue } = useServices();
  const recording = useRecording();
  const items = useQueueItems();
  const recordingNow = recording.mode !== RecorderMode.Idle;
  return (
    <View style={common.screen}>
      <ConnectionBadge mode={recording.mode} state={recording.connection} />
      {recording.error ? (
        <Text style={[common.body, styles.error]} accessibilityRole="alert">
          {recording.error}
        </Text>
      ) : null}
      {recording.notice ? <Text style={[common.muted, styles.notice]}>{recording.notice}</Text> : null}
      <LiveCaptions captions={recording.captions} />
      <Pressable
        accessibilityRole="button"
        accessibilityLabel={recordingNow ? 'Stop recording' : 'Start recording'}
        disabled={recording.busy}
        onPress={recordingNow ? recording.stop : recording.start}
        style={[styles.record, recordingNow && styles.recording]}
      >
        <Text style={styles.recordText}>{recordingNow ? 'Stop' : 'Record'}</Text>
      </Pressable>
      <QueueList
        items={items}
        onRetry={(id) => void queue.retry(id)}
        onRemove={(id) => void queue.remove(id)}
      />
    </View>
  );
}

const styles = StyleSheet.create({
  error: { color: colors.danger, marginHorizontal: 12 },
  notice: { color: colors.warn, marginHorizontal: 12, marginBottom: 6 },
  record: {
    alignSelf: 'center',
    backgroundColor: colors.accent,
    borderRadius: 999,
    paddingHorizontal: 36,
    paddingVertical: 14,
    margin: 16,
  },
  recording: { backgroundColor: colors.danger },
  recordText: { color: '#fff', fontSize: 18, fontWeight: '700' },
});
