import { ScrollView, StyleSheet, Text, View } from 'react-native';

import { type Captions, lineSpeaker } from '../live/captions';
import { colors, common } from '../theme';

export function speakerName(label: number | null): string | null {
  return label === null ? null : `Speaker ${label + 1}`;
}

/** Final lines (with their speaker once known) and the interim text still being heard. */
export function LiveCaptions({ captions }: { captions: Captions }) {
  if (captions.finals.length === 0 && !captions.interim) {
    return <Text style={[common.muted, styles.hint]}>Captions appear here as you speak.</Text>;
  }
  return (
    <ScrollView style={styles.box} contentContainerStyle={{ padding: 12 }}>
      {captions.finals.map((line) => {
        const speaker = speakerName(lineSpeaker(line));
        return (
          <View key={line.index} style={styles.line} testID="caption-final">
            {speaker ? <Text style={styles.speaker}>{speaker}</Text> : null}
            <Text style={common.body}>{line.text}</Text>
          </View>
        );
      })}
      {captions.interim ? (
        <Text style={styles.interim} testID="caption-interim">
          {captions.interim}
        </Text>
      ) : null}
    </ScrollView>
  );
}

const styles = StyleSheet.create({
  box: { flex: 1, backgroundColor: colors.card, marginHorizontal: 12, borderRadius: 10 },
  hint: { margin: 12 },
  line: { marginBottom: 8 },
  speaker: { fontSize: 12, fontWeight: '700', color: colors.accent },
  interim: { fontSize: 14, color: colors.muted, fontStyle: 'italic' },
});
