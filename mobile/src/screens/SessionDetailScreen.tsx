import { Pressable, ScrollView, StyleSheet, Text, View } from 'react-native';

import type { Session, Speaker, Transcript } from '../api/types';
import { Empty, ErrorState, Loading } from '../components/StateView';
import { formatDateTime, formatDuration } from '../format';
import { useResource } from '../hooks/useResource';
import { useServices } from '../servicesContext';
import { colors, common } from '../theme';

interface Detail {
  session: Session;
  speakers: Speaker[];
  transcript: Transcript;
}

function nameOf(speakers: Speaker[], label: number | null, fallback: string | null): string {
  if (label === null) return fallback ?? 'Unknown speaker';
  return speakers.find((s) => s.label === label)?.name ?? fallback ?? `Speaker ${label + 1}`;
}

/** One session: its facts, who spoke, and the transcript with speaker names. */
export function SessionDetailScreen({ sessionId, onBack }: { sessionId: string; onBack: () => void }) {
  const { api } = useServices();
  const [resource, reload] = useResource<Detail>(async () => {
    const [session, speakers, transcript] = await Promise.all([
      api.getSession(sessionId),
      api.listSpeakers(sessionId),
      api.getTranscript(sessionId),
    ]);
    return { session, speakers: speakers.items, transcript };
  });

  const back = (
    <Pressable accessibilityRole="button" onPress={onBack} style={styles.back}>
      <Text style={styles.backText}>‹ Sessions</Text>
    </Pressable>
  );
  if (resource.status === 'loading') return <View style={common.screen}>{back}<Loading /></View>;
  if (resource.status === 'error') {
    return (
      <View style={common.screen}>
        {back}
        <ErrorState message={resource.message} onRetry={reload} />
      </View>
    );
  }
  const { session, speakers, transcript } = resource.data;
  return (
    <ScrollView style={common.screen}>
      {back}
      <Text style={common.heading}>{session.title || 'Untitled session'}</Text>
      <Text style={[common.muted, styles.indent]}>
        {formatDateTime(session.created_at)} · {formatDuration(session.duration_s)} · {session.status}
      </Text>
      <Text style={[common.title, styles.section]}>Speakers</Text>
      {speakers.length === 0 ? (
        <Text style={[common.muted, styles.indent]}>No speakers identified yet.</Text>
      ) : (
        <View style={styles.speakers}>
          {speakers.map((speaker) => (
            <Text key={speaker.label} style={styles.speakerChip} testID="speaker">
              {speaker.name}
            </Text>
          ))}
        </View>
      )}
      <Text style={[common.title, styles.section]}>Transcript</Text>
      {transcript.segments.length === 0 ? (
        <Empty message="The transcript is not ready yet." />
      ) : (
        transcript.segments.map((segment) => (
          <View key={segment.index} style={common.card}>
            <Text style={styles.speakerName}>
              {nameOf(speakers, segment.speaker, segment.speaker_name)}
            </Text>
            <Text style={common.body}>{segment.text}</Text>
          </View>
        ))
      )}
    </ScrollView>
  );
}

const styles = StyleSheet.create({
  back: { padding: 12 },
  backText: { color: colors.accent, fontWeight: '600' },
  indent: { marginHorizontal: 12 },
  section: { marginHorizontal: 12, marginTop: 16, marginBottom: 4 },
  speakers: { flexDirection: 'row', flexWrap: 'wrap', gap: 6, marginHorizontal: 12 },
  speakerChip: {
    backgroundColor: colors.card,
    borderWidth: 1,
    borderColor: colors.border,
    borderRadius: 999,
    paddingHorizontal: 10,
    paddingVertical: 4,
  },
  speakerName: { fontSize: 12, fontWeight: '700', color: colors.accent },
});
